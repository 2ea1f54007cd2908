/** The config hub's Prometheus gauge: the config version each environment holds in memory. */
import { Gauge, type Registry } from 'prom-client';

/** Registers `dimmer_config_version` on `registry`. */
export function createConfigVersionGauge(registry: Registry): Gauge<'environment'> {
  return new Gauge({
    name: 'dimmer_config_version',
    help: 'Config version held in memory, per environment',
    labelNames: ['environment'] as const,
    registers: [registry],
  });
}

/** Registers `dimmer_config_lag_seconds` on `registry`. */
export function createConfigLagGauge(registry: Registry): Gauge<'environment'> {
  return new Gauge({
    name: 'dimmer_config_lag_seconds',
    help: 'Seconds since the newest config version known in storage was committed, while this node does not hold it yet (0 when up to date), per environment',
    labelNames: ['environment'] as const,
    registers: [registry],
  });
}
