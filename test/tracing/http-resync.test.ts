// What the parser does when it did not see everything: exchanges shed by the kernel (positions frozen, the next
// event flagged RESYNC), events lost on a full ring (positions jump), and connections picked up mid-stream. The
// rule: never a false or mis-paired span; parsing resumes at the next message start.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Sim } from './capture-sim.js';

const req = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
const res = (status: number, body: string) => `HTTP/1.1 ${status} X\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
const paths = (sim: Sim) => sim.spans.map((s) => [s.span.attributes['url.path'], s.status]);

describe('HTTP parsing across unseen bytes', () => {
  it('exchanges shed by the kernel leave no trace; the next captured exchange is paired with its own response', () => {
    const sim = new Sim();
    const c = sim.conn();
    c.sys('in', req('/a'), 0n);
    c.sys('out', res(200, 'a'), 10n);
    // /b and /c are shed (not shipped); /d's request carries RESYNC.
    c.shed();
    c.sys('in', req('/d'), 100n);
    c.sys('out', res(404, 'd'), 110n);
    assert.deepEqual(paths(sim), [['/a', 200], ['/d', 404]]);
    assert.equal(sim.drops.get('unmatched_response'), undefined);
  });

  it('shedding that begins while a request waits for its response abandons it (counted) instead of mis-pairing', () => {
    const sim = new Sim();
    const c = sim.conn();
    // Pipelined: /a and /b read; the kernel sheds from here (the responses to /a and /b are never shipped).
    c.sys('in', req('/a') + req('/b'), 0n);
    c.shed();
    c.sys('in', req('/c'), 100n);
    c.sys('out', res(201, 'c'), 110n);
    assert.deepEqual(paths(sim), [['/c', 201]]);
    assert.equal(sim.drops.get('resync_abandoned'), 2);
  });

  it('a response lost on a full ring does not shift the pairing of the next exchanges', () => {
    const sim = new Sim();
    const c = sim.conn();
    c.sys('in', req('/a'), 0n);
    c.lose('out', res(500, 'lost').length); // /a's response never arrives
    c.sys('in', req('/b'), 100n);
    c.sys('out', res(200, 'b'), 110n); // the gap shows here: /a and /b are abandoned, /b's response unmatched
    c.sys('in', req('/c'), 200n);
    c.sys('out', res(200, 'c'), 210n);
    assert.deepEqual(paths(sim), [['/c', 200]]);
    assert.ok((sim.drops.get('gap') ?? 0) >= 1);
  });

  it('events lost inside a Content-Length body keep the framing: the span still ends at the right byte', () => {
    const sim = new Sim();
    const c = sim.conn();
    const body = 'x'.repeat(3000);
    const whole = res(200, body);
    c.sys('in', req('/big'), 0n);
    c.sys('out', whole.slice(0, 1000), 10n);
    c.lose('out', 1000);
    c.sys('out', whole.slice(2000), 30n);
    c.sys('in', req('/next'), 40n);
    c.sys('out', res(200, 'n'), 50n);
    assert.deepEqual(paths(sim), [['/big', 200], ['/next', 200]]);
    assert.equal(sim.spans[0]!.span.endTimeUnixNano, 30n + 1000n); // the exit of the write with the last byte
  });

  it('a connection picked up mid-stream: the rest of a body and a response without its request give no span', () => {
    const sim = new Sim();
    const c = sim.conn();
    c.shed(); // registered mid-stream: the first event is flagged RESYNC
    c.sys('in', 'ody of a POST that began before tracing\r\n', 0n);
    c.sys('out', res(200, 'for the request we never saw'), 10n);
    c.sys('in', req('/after'), 20n);
    c.sys('out', res(200, 'ok'), 30n);
    assert.deepEqual(paths(sim), [['/after', 200]]);
    assert.equal(sim.drops.get('unmatched_response'), 1);
  });

  it('picked up between a request and its response: that response is unmatched, later ones pair', () => {
    const sim = new Sim();
    const c = sim.conn();
    c.shed();
    c.sys('out', res(200, 'answer to an unseen request'), 0n);
    c.sys('in', req('/1'), 10n);
    c.sys('out', res(204, ''), 20n);
    c.sys('in', req('/2'), 30n);
    c.sys('out', res(200, '2'), 40n);
    assert.deepEqual(paths(sim), [['/1', 204], ['/2', 200]]);
  });
});
