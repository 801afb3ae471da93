/**
 * The dashboards (web UI for students, instructors, mentors and the competition screen): the
 * browser app is in `src/` (Preact, ECharts, mqtt over WebSocket), built by Vite into `dist/`;
 * this entry serves that build on the platform's HTTP port and builds it when it is missing.
 */
export { buildDashboards, DASHBOARDS_DIST, dashboardsStale, ensureDashboardsBuilt } from './build.ts';
export { RESERVED_PREFIXES, serveDashboards } from './serve.ts';
