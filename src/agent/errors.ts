/** Process exit codes (documented in the README and `telegen --help`). */
export const ExitCode = { OK: 0, GENERAL: 1, CONFIG: 2, EBPF: 3, PERMISSION: 4, EXPORT: 5 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A subsystem failure that carries the exit code the process should end with when the subsystem is required. */
export class SubsystemError extends Error {
  constructor(message: string, readonly exitCode: ExitCode = ExitCode.GENERAL) {
    super(message);
    this.name = 'SubsystemError';
  }
}
