/**
 * Real servers for the tests and the benchmarks: influxd, victoria-metrics, mosquitto, PostgreSQL,
 * redis-server, haproxy, socat and chromium found on the PATH (with the Debian package that installs each),
 * started on a free loopback port with a temporary data directory; and `iotlab` itself as a process
 * of its own (iotlab-process.ts). It loads no test runner: the
 * vitest glue (`describeWithServer`) is tests/helpers/suites.ts.
 */
export * from './iotlab-process.ts';
export * from './servers.ts';
