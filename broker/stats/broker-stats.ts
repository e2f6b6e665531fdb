interface Sample {
  time: number;
  put: number;
  got: number;
}

const WINDOWS_SECONDS = [10, 60, 600];

/**
 * Message counts for GET_BROKER_RUNTIME_INFO (broker-internals.md §14.1): totals since start and
 * at the last two midnights, and put/get TPS averaged over 10 s, 60 s and 600 s from one sample
 * per second (`mqadmin clusterList` shows the 10 s figure).
 */
export class BrokerStats {
  private put = 0;
  private got = 0;
  private readonly samples: Sample[] = [];
  private timer?: NodeJS.Timeout;
  private day = new Date().toDateString();
  private putTodayMorning = 0;
  private putYesterdayMorning = 0;
  private gotTodayMorning = 0;
  private gotYesterdayMorning = 0;

  messagesPut(n: number): void {
    this.put += n;
  }

  messagesGot(n: number): void {
    this.got += n;
  }

  start(): void {
    this.sample(Date.now());
    this.timer = setInterval(() => this.sample(Date.now()), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(time: number): void {
    const day = new Date(time).toDateString();
    if (day !== this.day) {
      this.day = day;
      this.putYesterdayMorning = this.putTodayMorning;
      this.putTodayMorning = this.put;
      this.gotYesterdayMorning = this.gotTodayMorning;
      this.gotTodayMorning = this.got;
    }
    this.samples.push({ time, put: this.put, got: this.got });
    if (this.samples.length > WINDOWS_SECONDS[WINDOWS_SECONDS.length - 1] + 1) this.samples.shift();
  }

  /** Messages stored per second over the last `windowSeconds` (10, 60 or 600). */
  putTps(windowSeconds: number, now = Date.now()): number {
    return this.tps((s) => s.put, windowSeconds, now);
  }

  /** Messages returned by pulls per second over the last `windowSeconds` (10, 60 or 600). */
  getTps(windowSeconds: number, now = Date.now()): number {
    return this.tps((s) => s.got, windowSeconds, now);
  }

  private tps(pick: (s: Sample) => number, window: number, now: number): number {
    const from = this.samples[Math.max(0, this.samples.length - window)];
    const seconds = from ? (now - from.time) / 1000 : 0;
    const latest = { time: now, put: this.put, got: this.got };
    return seconds > 0 ? (pick(latest) - pick(from)) / seconds : 0;
  }

  /** `"tps10 tps60 tps600"`, as GET_BROKER_RUNTIME_INFO writes TPS. */
  private tpsText(tps: (window: number, now: number) => number, now: number): string {
    return WINDOWS_SECONDS.map((window) => tps(window, now).toFixed(2)).join(' ');
  }

  runtimeInfo(now = Date.now()): Record<string, string> {
    return {
      putTps: this.tpsText((w, t) => this.putTps(w, t), now),
      getTransferedTps: this.tpsText((w, t) => this.getTps(w, t), now),
      msgPutTotalYesterdayMorning: String(this.putYesterdayMorning),
      msgPutTotalTodayMorning: String(this.putTodayMorning),
      msgPutTotalTodayNow: String(this.put),
      msgGetTotalYesterdayMorning: String(this.gotYesterdayMorning),
      msgGetTotalTodayMorning: String(this.gotTodayMorning),
      msgGetTotalTodayNow: String(this.got),
    };
  }
}
