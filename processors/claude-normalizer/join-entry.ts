import type { IndexEntry, JoinIndex } from './join-index.js';

/** An index entry as a store keeps it outside the process: everything but the batch-local fields. */
export interface StoredEntry extends Pick<IndexEntry, 'record' | 'shapes' | 'keys' | 'expiresAt' | 'billed' | 'splitKnown' | 'pending'> {
  /** IndexEntry.version; absent from entries an earlier release stored. */
  version?: number;
  /** 'sl' (usage-less gateway links) or 'sc' (client calls awaiting the gateway) and its session, or ''. */
  group: '' | 'sl' | 'sc';
  session: string;
}

export function storedEntry(e: IndexEntry, index: JoinIndex): StoredEntry {
  const group = e.group === index.links ? 'sl' : e.group === index.clientCalls ? 'sc' : '';
  return {
    record: e.record, shapes: e.shapes, keys: e.keys, expiresAt: e.expiresAt, billed: e.billed, splitKnown: e.splitKnown,
    version: e.version, pending: e.pending, group, session: group === '' ? '' : e.groupSession,
  };
}

/** Puts a stored entry back into `index`, `owned` being the keys that lead to it, in its session group. */
export function restoreEntry(s: StoredEntry, index: JoinIndex, owned: readonly string[]): IndexEntry {
  const entry: IndexEntry = {
    record: s.record, shapes: s.shapes, keys: s.keys, expiresAt: s.expiresAt, billed: s.billed, splitKnown: s.splitKnown,
    version: s.version ?? 0, batch: -1, position: -1, pending: s.pending, group: null, groupSession: '', slot: -1,
  };
  index.restore(entry, owned);
  if (s.group === 'sl') index.links.add(entry);
  else if (s.group === 'sc') index.clientCalls.add(entry);
  return entry;
}

/** 'sl:SESSION', 'sc:SESSION' or '': the session set a stored entry belongs to. */
export function groupKey(s: StoredEntry): string {
  return s.group === '' ? '' : `${s.group}:${s.session}`;
}
