import { setFlagsFromString } from 'node:v8';

/**
 * Process-wide V8 settings for a process that serves API traffic (`gateway.v8_pretenuring`).
 *
 * A proxy allocates per call and keeps almost nothing: young-generation collections should find
 * a few in-flight requests alive. With V8's allocation-site pretenuring on, the gateway settled at
 * random (run to run, more often on a busy machine) into a state where hot allocation sites were
 * pretenured: their objects, born in the old generation and dead soon after, still point at the
 * call's young objects, which the scavenger must then keep, and promote. Measured with
 * `--trace-gc-nvp` under `wrk -c50` on bench/gateway: 120-155 MB promoted per 80-110k calls
 * (1.4 KB a call) and scavenges of 5-15 ms, against 10-20 MB and 1-3 ms with it off; a bare
 * node:http + undici server run inside the same process showed the same, so it is not the
 * gateway's request path. The flag is read by the collector at each GC, so setting it at start
 * takes effect for the rest of the process.
 */
export function tuneV8ForProxying(options: { pretenuring: boolean }): void {
  if (!options.pretenuring) setFlagsFromString('--no-allocation-site-pretenuring');
}
