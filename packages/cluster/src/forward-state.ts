/**
 * A life that only moves forward through ranked states: a child's (child-handle.ts) and the
 * master's own. `to` refuses a step back or in place, so a late event (an exit after a stop, a
 * second ready) cannot undo what happened.
 */
export class ForwardState<S extends string> {
  readonly #rank: Readonly<Record<S, number>>;
  #now: S;

  constructor(rank: Readonly<Record<S, number>>, initial: S) {
    this.#rank = rank;
    this.#now = initial;
  }

  get now(): S {
    return this.#now;
  }

  /** Moves to `next`; false (and nothing changes) unless it lies ahead. */
  to(next: S): boolean {
    if (this.#rank[next] <= this.#rank[this.#now]) return false;
    this.#now = next;
    return true;
  }

  /** Whether the life has moved beyond `state`. */
  past(state: S): boolean {
    return this.#rank[this.#now] > this.#rank[state];
  }
}
