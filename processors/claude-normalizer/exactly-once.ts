import type { LlmCall } from '../../core/llm-call.js';
import type { Logger } from '../../core/logger.js';
import type { IndexEntry, JoinIndex, SessionGroup } from './join-index.js';
import { idsConflict, isFingerprintKey } from './join-keys.js';
import type { JoinLookup } from './join-store.js';
import { betterBreakdown, GATEWAY_SOURCE, mergeCall, tokensDiffer } from './merge.js';
import type { NormalizerMetrics } from './metrics.js';
import { hasTokens } from './tokens.js';
import type { Extracted, Report, Shape } from './types.js';
import type { UndoLog } from './undo-log.js';

/**
 * How far apart in time a usage-less gateway span and the client's report of a call may start to be
 * joined by session alone: the same call starts milliseconds apart at both, plus clock skew.
 */
const SESSION_MATCH_MS = 60_000;

/** What exactly-once made of one report. */
export type Outcome =
  /** A record seen before (a re-send): dropped, counts nothing. */
  | { kind: 'resent' }
  /** Another record of a shape that already reported the call: dropped. */
  | { kind: 'repeated' }
  /** A link-only report, held in the index until a billable report of its call arrives. */
  | { kind: 'held' }
  /** A report only counted, never billed (Claude Code's other usage report), seen for the first time. */
  | { kind: 'counted' }
  /** A new call: `call` is appended to the batch's calls, at ingest version `version` (IndexEntry.version). */
  | { kind: 'billed'; call: LlmCall; version: number }
  /** Joined to a call already emitted, adding nothing. */
  | { kind: 'joined' }
  /**
   * Joined to a call already emitted, enriching it: `call` replaces `replaces`, in place when that
   * is still at `position` of this batch's calls (-1: emitted by an earlier batch), else as an update;
   * either way at ingest version `version`, above every earlier one of the call.
   */
  | { kind: 'merged'; call: LlmCall; replaces: LlmCall; position: number; version: number };

/**
 * The exactly-once join of one batch's reports against the index of its store transaction: re-sent
 * records and repeated shapes dropped, new calls billed, second sources joined (README, "Exactly
 * once"). Every change to an entry goes through JoinIndex, after the batch's undo log saw it.
 */
export class ExactlyOnce {
  private index!: JoinIndex;
  private undo!: UndoLog;
  private batchSeq = 0;
  /** Calls billed in the batch so far: the position the next one takes in the batch's calls. */
  private emitted = 0;

  constructor(
    private readonly maxAttributes: number,
    private readonly m: Pick<NormalizerMetrics, 'duplicates' | 'joins' | 'joinMismatch' | 'inconsistent'>,
    private readonly logger: Logger,
  ) {}

  /** Starts a batch: `index` is its transaction's, `undo` logs what the batch changes in it. */
  begin(index: JoinIndex, undo: UndoLog): void {
    this.index = index;
    this.undo = undo;
    this.batchSeq++;
    this.emitted = 0;
  }

  take(r: Report, now: number): Outcome {
    return r.counted ? this.firstSight(r.x, r.record, now) : this.accept(r.x, r.record, now);
  }

  /**
   * A report to bill: re-sent record or second report of a shape (dropped), new call, or second
   * source (joined). `record` is the identity of the telemetry record read (join-keys.ts): a record
   * seen before is a re-send whatever ids it carries.
   */
  private accept(x: Extracted, record: string, now: number): Outcome {
    const call = x.call;
    if (this.index.find([record]) !== undefined) {
      this.duplicate(call, x.shape);
      return { kind: 'resent' };
    }
    if (x.tokenIssue !== '') {
      this.m.inconsistent.inc({ source: call.source, reason: x.tokenIssue });
      this.logger.debug('inconsistent tokens', { call_id: call.call_id, shape: x.shape, reason: x.tokenIssue });
    }
    // A successful gateway span without usage (LiteLLM 1.80 streamed /anthropic): never billed, only
    // a carrier of the gateway's attribution for the client's report of the call.
    const usageless = x.linkOnly === true && call.record_type === 'call' && !hasTokens(call);
    const found = x.keys.length > 0 ? this.index.find(x.keys) : undefined;
    const entry = (found && (!isFingerprintKey(found.key) || fingerprintJoins(found.entry, x, call)) ? found.entry : undefined)
      ?? (usageless ? this.closest(this.index.clientCalls, call) : undefined);
    const keys = [...x.keys, record];
    if (entry === undefined) return this.firstReport(x, keys, usageless, now);
    if (entry.shapes.includes(x.shape)) {
      this.undo.touch(entry);
      this.index.addKeys(entry, [record]);
      this.duplicate(entry.record, x.shape);
      return { kind: 'repeated' };
    }
    this.undo.touch(entry);
    this.index.addKeys(entry, keys);
    this.index.addShape(entry, x.shape);
    // The gateway has reported this call: no usage-less gateway span is looking for it any more.
    if (call.source === GATEWAY_SOURCE) this.index.clientCalls.remove(entry);
    if (!entry.billed) return this.joinUnbilled(entry, x, now);
    return this.joinBilled(entry, x, usageless, now);
  }

  /** The first report of a call. Every report is indexed, if only by its record key, so that a re-send of it is recognised. */
  private firstReport(x: Extracted, keys: string[], usageless: boolean, now: number): Outcome {
    const call = x.call;
    if (x.linkOnly) {
      const link = this.index.add(call, x.shape, keys, now, false, this.batchSeq, -1);
      this.undo.add(link);
      if (usageless && call.session_id !== '') this.index.links.add(link);
      return { kind: 'held' };
    }
    const link = this.gatewayLinkFor(call);
    const billed = link === undefined ? call : mergeCall(call, link.record, this.maxAttributes) ?? call;
    const added = this.index.add(billed, x.shape, keys, now, true, this.batchSeq, this.emitted, x.cacheSplitKnown === true);
    this.undo.add(added);
    if (link !== undefined) this.absorb(added, link, call);
    else if (awaitsGateway(call)) this.index.clientCalls.add(added);
    return this.emit(added, billed, now);
  }

  /** A report of a call only linked so far: held with the links, or, the first billable one, billed with what they knew. */
  private joinUnbilled(entry: IndexEntry, x: Extracted, now: number): Outcome {
    const call = x.call;
    if (x.linkOnly) {
      this.index.hold(entry, call);
      return { kind: 'held' };
    }
    const first = entry.record;
    this.index.links.remove(entry);
    let billed = call;
    for (const known of [first, ...entry.pending]) billed = mergeCall(billed, known, this.maxAttributes) ?? billed;
    const link = entry.shapes.some(isGatewayShape) ? undefined : this.gatewayLinkFor(call);
    if (link !== undefined) billed = mergeCall(billed, link.record, this.maxAttributes) ?? billed;
    this.index.bill(entry, billed, x.cacheSplitKnown === true, this.batchSeq, this.emitted);
    if (link !== undefined) this.absorb(entry, link, call);
    else if (awaitsGateway(call) && !entry.shapes.some(isGatewayShape)) this.index.clientCalls.add(entry);
    this.m.joins.inc({ first: first.source, second: call.source });
    return this.emit(entry, billed, now);
  }

  /** Another source's report of a billed call: merged into it, the record re-emitted when that changed it. */
  private joinBilled(entry: IndexEntry, x: Extracted, usageless: boolean, now: number): Outcome {
    const call = x.call;
    const first = entry.record;
    this.m.joins.inc({ first: first.source, second: call.source });
    let merged = mergeCall(first, call, this.maxAttributes);
    let splitKnown = false;
    if (!usageless) {
      if (tokensDiffer(first, call)) {
        this.m.joinMismatch.inc({ first: first.source, second: call.source });
        this.logger.debug('joined reports disagree on tokens', { call_id: first.call_id, shape: x.shape });
      }
      // The one token change a join may make: a finer breakdown of the same prompt (LiteLLM 1.80 says
      // 1500/0 writes where Claude Code says 1200/300), or the provider SDK's own counts, from the
      // report that knows them (merge.ts, betterBreakdown). Row stores then price it right; /metrics
      // counts only the rise of the cost (README, "Exactly once").
      const finer = betterBreakdown(first, entry.splitKnown, call, x.cacheSplitKnown === true, x.shape === 'anthropic_sdk');
      if (finer !== null) {
        merged ??= { ...first };
        merged.input_tokens = finer.input;
        merged.output_tokens = finer.output;
        merged.cache_read_tokens = finer.read;
        merged.cache_write_5m_tokens = finer.m5;
        merged.cache_write_1h_tokens = finer.h1;
        splitKnown = x.cacheSplitKnown === true;
      }
    }
    if (merged === null) return { kind: 'joined' };
    this.index.replace(entry, merged, splitKnown);
    const position = entry.batch === this.batchSeq ? entry.position : -1;
    return { kind: 'merged', call: merged, replaces: first, position, version: this.index.stamp(entry, now) };
  }

  /**
   * For the Claude Code report this mode does not bill (events when billing metrics, usage intervals
   * when billing events), only counted against the other: whether its record is new, remembered in
   * the index by its record key alone so that a re-send neither counts twice nor joins anything.
   */
  private firstSight(x: Extracted, record: string, now: number): Outcome {
    if (this.index.find([record]) !== undefined) {
      this.duplicate(x.call, x.shape);
      return { kind: 'resent' };
    }
    this.undo.add(this.index.add(x.call, x.shape, [record], now, true, this.batchSeq, -1));
    return { kind: 'counted' };
  }

  private emit(entry: IndexEntry, call: LlmCall, now: number): Outcome {
    this.emitted++;
    return { kind: 'billed', call, version: this.index.stamp(entry, now) };
  }

  /** A usage-less gateway span waiting for this client call, if any. */
  private gatewayLinkFor(call: LlmCall): IndexEntry | undefined {
    return awaitsGateway(call) ? this.closest(this.index.links, call) : undefined;
  }

  /** The usage-less gateway span's keys and shapes now lead to the client call's entry. */
  private absorb(entry: IndexEntry, link: IndexEntry, call: LlmCall): void {
    this.undo.touch(link);
    this.index.absorb(entry, link);
    this.m.joins.inc({ first: link.record.source, second: call.source });
  }

  /**
   * The entry of `group` with the same session and model (or a model the gateway could not name)
   * that started closest to `call`, within SESSION_MATCH_MS: how a usage-less gateway span and the
   * client's report of its call, which share no id and no tokens, find each other.
   */
  private closest(group: SessionGroup, call: LlmCall): IndexEntry | undefined {
    if (call.session_id === '' || call.record_type !== 'call') return undefined;
    const candidates = group.get(call.session_id);
    if (candidates.length === 0) return undefined;
    const t = Date.parse(call.timestamp);
    let best: IndexEntry | undefined;
    let bestGap = SESSION_MATCH_MS;
    for (const e of candidates) {
      if (!modelsMatch(e.record.model, call.model)) continue;
      const gap = Math.abs(Date.parse(e.record.timestamp) - t);
      if (gap <= bestGap) { best = e; bestGap = gap; }
    }
    return best;
  }

  private duplicate(call: LlmCall, shape: Shape): void {
    this.m.duplicates.inc({ source: call.source });
    this.logger.debug('duplicate report dropped', { call_id: call.call_id, shape });
  }
}

/** A billed client call that a usage-less gateway span of its session may still join. */
function awaitsGateway(call: LlmCall): boolean {
  return call.source === 'claude_code' && call.record_type === 'call' && call.session_id !== '';
}

/**
 * Whether a fingerprint match joins: two sources whose ids do not contradict it, or two shapes of
 * one source in the same trace (Claude Code's api_request event and its llm_request span, when
 * neither carries a request id: /v1/messages through LiteLLM 1.80 and 1.81).
 */
function fingerprintJoins(e: IndexEntry, x: Extracted, call: LlmCall): boolean {
  if (idsConflict(e.keys, x.keys)) return false;
  if (e.record.source !== call.source) return true;
  return call.trace_id !== '' && e.record.trace_id === call.trace_id && !e.shapes.includes(x.shape);
}

function isGatewayShape(shape: Shape): boolean {
  return shape.startsWith('litellm');
}

/** A model the gateway could not name (`unknown` on LiteLLM 1.80's pass-through spans) matches any. */
function modelsMatch(a: string, b: string): boolean {
  return a === b || a === '' || b === '' || a === 'unknown' || b === 'unknown';
}

/**
 * Every key the batch's reports may look up, and the sessions in which a usage-less gateway span
 * and a client call may meet (accept(): `usageless`, awaitsGateway()) — only those, as a shared
 * store locks them: a session every gateway call carries would serialize every batch.
 */
export function lookupOf(reports: readonly Report[]): JoinLookup {
  const keys: string[] = [];
  const sessions: string[] = [];
  for (const { x, record } of reports) {
    keys.push(record, ...x.keys);
    const c = x.call;
    if (c.record_type === 'call' && c.session_id !== '' && (c.source === 'claude_code' || (x.linkOnly === true && !hasTokens(c)))) sessions.push(c.session_id);
  }
  return { keys, sessions };
}
