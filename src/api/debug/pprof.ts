// @datadog/pprof (JS plus a native addon, ~1 MB of heap and ~9 MB resident once loaded) is needed only while
// the debug endpoints are enabled, so it is imported on first use instead of with the API.
import type * as Pprof from '@datadog/pprof';

let loading: Promise<typeof Pprof> | undefined;

export function loadPprof(): Promise<typeof Pprof> {
  loading ??= import('@datadog/pprof');
  return loading;
}
