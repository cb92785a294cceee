import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { telemetryOn } from '../../packages/cluster/src/telemetry-switch.ts';

const on = { enabled: true };
const off = { enabled: false };

describe('telemetryOn: who decides whether the children load OpenTelemetry (docs/operations.md)', () => {
  it('CLUTCH_TELEMETRY wins over the config, either way, in each spelling', () => {
    for (const value of ['1', 'true', 'on', 'ON', ' True ']) assert.equal(telemetryOn({ CLUTCH_TELEMETRY: value }, off), true, value);
    for (const value of ['0', 'false', 'off', 'OFF']) assert.equal(telemetryOn({ CLUTCH_TELEMETRY: value }, on), false, value);
  });

  it('without it (or empty), the config as the agent reported it; before any report, off', () => {
    assert.equal(telemetryOn({}, on), true);
    assert.equal(telemetryOn({ CLUTCH_TELEMETRY: '' }, on), true);
    assert.equal(telemetryOn({}, off), false);
    assert.equal(telemetryOn({}, undefined), false);
  });

  it('OTEL_SDK_DISABLED=true turns it off whatever else says', () => {
    assert.equal(telemetryOn({ OTEL_SDK_DISABLED: 'true', CLUTCH_TELEMETRY: '1' }, on), false);
    assert.equal(telemetryOn({ OTEL_SDK_DISABLED: 'false', CLUTCH_TELEMETRY: '1' }, off), true);
  });

  it('anything else in CLUTCH_TELEMETRY is CLUTCH_ERR_TELEMETRY_INVALID', () => {
    assert.throws(() => telemetryOn({ CLUTCH_TELEMETRY: 'yes please' }, on), { code: 'CLUTCH_ERR_TELEMETRY_INVALID' });
  });
});
