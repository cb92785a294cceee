/**
 * Sticky sessions (`cluster.sticky`): which worker a connection goes to, from its remote address.
 *
 * The choice is over worker SLOTS, not worker processes, by rendezvous hashing: each slot scores
 * every address, and the slot with the highest score that has a worker in service takes it. So:
 * - a replaced worker's addresses go to its successor (same slot, same scores), in a reload, a
 *   recycle or after a crash;
 * - while a slot has no worker in service (its worker died and the next one is not listening yet,
 *   or it stopped answering its heartbeats), each of its addresses goes to its next-best slot rather
 *   than wait — the addresses of the other slots do not move, and they come back once the slot
 *   serves again;
 * - `app scale` from n to n+1 slots moves only the addresses the new slot wins (about 1/(n+1)).
 *
 * The hash is hand-written (FNV-1a over the address, a murmur3 finalizer per slot): it runs in the
 * master's accept path for every connection, and it must give the same answer in every process and
 * every version — a general-purpose hash library would add a dependency for a dozen lines.
 */

/** A worker in a listener's rotation, with its slot. */
export interface StickyMember<T> {
  readonly target: T;
  readonly slot: number;
}

/** An IPv4 client is the same client on an IPv6 socket (`::ffff:10.0.0.1`) as on an IPv4 one (`10.0.0.1`). */
const MAPPED_V4 = /^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i;

/** FNV-1a, 32 bits, over the address's UTF-16 code units (addresses are ASCII); IPv4-mapped IPv6 as its IPv4. */
export function addressHash(address: string): number {
  address = address.replace(MAPPED_V4, '');
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) {
    h ^= address.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's fmix32: every input bit reaches every output bit. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The score of `slot` for an address whose hash is `hash`; the highest usable slot wins. */
export function slotScore(hash: number, slot: number): number {
  return mix(hash ^ mix(Math.imul(slot + 1, 0x9e3779b1)));
}

/** The slot an address belongs to among `slots` (null when there is none). */
export function stickySlot(address: string, slots: Iterable<number>): number | null {
  const hash = addressHash(address);
  let best: number | null = null;
  let bestScore = -1;
  for (const slot of slots) {
    const score = slotScore(hash, slot);
    // Ties (vanishingly rare) go to the lower slot, so the answer never depends on the order.
    if (score > bestScore || (score === bestScore && best !== null && slot < best)) {
      best = slot;
      bestScore = score;
    }
  }
  return best;
}

/**
 * The worker for a connection from `address`: among the members `usable` accepts, one of the
 * address's slot. `members` are in the order they joined, and a slot with two (for a moment during
 * a replacement: the old one not yet out of the rotation) gives the newer — the successor.
 */
export function pickSticky<T>(address: string, members: readonly StickyMember<T>[], usable: (target: T) => boolean): T | null {
  const hash = addressHash(address);
  let best: T | null = null;
  let bestSlot = -1;
  let bestScore = -1;
  // No allocation: this runs for every connection. A later member of the same slot scores the
  // same and replaces the earlier (the successor); a tie between slots goes to the lower one.
  for (const m of members) {
    if (!usable(m.target)) continue;
    const score = slotScore(hash, m.slot);
    if (score > bestScore || (score === bestScore && m.slot <= bestSlot)) {
      best = m.target;
      bestSlot = m.slot;
      bestScore = score;
    }
  }
  return best;
}
