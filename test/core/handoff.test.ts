import { describe, expect, it } from 'vitest';
import { Handoff, Relay } from '../../core/handoff.js';
import { createLogger } from '../../core/logger.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('Relay', () => {
  it('routes to the attached target, holds requests while none is, and hands them to the next one', () => {
    const relay = new Relay('old', 10_000);
    const served: string[] = [];
    relay.route((t) => served.push(`1@${t}`), () => served.push('1 expired'));
    relay.detach('old');
    relay.route((t) => served.push(`2@${t}`), () => served.push('2 expired'));
    relay.route((t) => served.push(`3@${t}`), () => served.push('3 expired'));
    expect(served).toEqual(['1@old']);
    relay.attach('new');
    expect(served).toEqual(['1@old', '2@new', '3@new']);
  });

  it('answers a request with the last target when no target attaches in time, or when it closes', async () => {
    const relay = new Relay('old', 30);
    const answers: string[] = [];
    relay.detach('old');
    relay.route(() => answers.push('served'), (last) => answers.push(`expired@${last}`));
    await sleep(80);
    expect(answers).toEqual(['expired@old']);
    relay.route(() => answers.push('served'), (last) => answers.push(`closed@${last}`));
    relay.close();
    expect(answers).toEqual(['expired@old', 'closed@old']);
    relay.attach('late');
    expect(answers).toHaveLength(2);
  });

  it('a target detaching after the next attached does not detach the next one', () => {
    const relay = new Relay('old', 10_000);
    relay.attach('new');
    relay.detach('old');
    const served: string[] = [];
    relay.route((t) => served.push(t), () => served.push('expired'));
    expect(served).toEqual(['new']);
  });
});

describe('Handoff', () => {
  const logger = createLogger('error', {});

  it('keeps nothing outside a reload: the caller closes its own listener', () => {
    const handoff = new Handoff();
    expect(handoff.leave('k', 1, async () => {})).toBe(false);
    expect(handoff.take('k')).toBeUndefined();
  });

  it('during a reload, hands what was left to the one who takes it and closes the rest when it ends', async () => {
    const handoff = new Handoff();
    const closed: string[] = [];
    handoff.begin();
    expect(handoff.leave('otlp/http a', 'A', async () => { closed.push('A'); })).toBe(true);
    expect(handoff.leave('otlp/http b', 'B', async () => { closed.push('B'); })).toBe(true);
    expect(handoff.take('otlp/http a')).toBe('A');
    expect(handoff.take('otlp/http a')).toBeUndefined();
    await handoff.end(logger);
    expect(closed).toEqual(['B']);
    expect(handoff.leave('otlp/http c', 'C', async () => {})).toBe(false);
  });
});
