// The local Control Service's time. Everything that changes with time (a deployment going live,
// an execution running and ending, logs growing, tokens expiring) is derived from this clock on
// each read, so whoever holds the clock decides what a client sees: a test freezes it and moves it
// on at the moments it chooses, and a status then depends on what the test did, never on how
// fast the machine is. Running (the default), it follows the wall clock; frozen, it stands still
// until it is advanced; it never goes back.

/** What a restart from --data-dir needs to go on from the same moment (see server.ts). */
export interface ClockSnapshot {
  /** Service time minus wall time, while it runs. */
  offset_ms: number
  /** The service time it stands at, when frozen. */
  frozen_at?: number
}

export interface ClockView {
  /** Milliseconds since the epoch, as the service sees them. */
  now: number
  frozen: boolean
}

export class ServiceClock {
  /** While running: service time = wall time + offset. */
  private offset = 0
  /** While frozen: the service time it stands at. */
  private standing: number | undefined

  constructor(
    options: { frozen?: boolean; start?: number } = {},
    private readonly wall: () => number = Date.now
  ) {
    const start = options.start ?? wall()
    this.offset = start - wall()
    if (options.frozen) this.standing = start
  }

  now(): number {
    return this.standing ?? this.wall() + this.offset
  }

  get frozen(): boolean {
    return this.standing !== undefined
  }

  /** Stops the clock where it is. */
  freeze(): void {
    this.standing ??= this.now()
  }

  /** Lets it run on from where it stands, at the wall clock's pace. */
  resume(): void {
    if (this.standing === undefined) return
    this.offset = this.standing - this.wall()
    this.standing = undefined
  }

  /** Moves it on by `ms` (frozen or not). */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`the clock moves only forward: ${ms} ms`)
    if (this.standing !== undefined) this.standing += ms
    else this.offset += ms
  }

  /** Moves it on to `at` (ms since the epoch); a time already past leaves it where it is. */
  advanceTo(at: number): void {
    this.advance(Math.max(0, at - this.now()))
  }

  snapshot(): ClockSnapshot {
    return this.standing === undefined
      ? { offset_ms: this.offset }
      : { offset_ms: this.offset, frozen_at: this.standing }
  }

  /** The clock of a snapshot: frozen where it stood, or running with the same offset. */
  static restore(s: ClockSnapshot, wall: () => number = Date.now): ServiceClock {
    const clock = new ServiceClock({}, wall)
    clock.offset = s.offset_ms
    clock.standing = s.frozen_at
    return clock
  }

  view(): ClockView {
    return { now: this.now(), frozen: this.frozen }
  }
}
