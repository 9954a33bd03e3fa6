// The per-feature installers ECharts ships as plain modules (lib/**/install.js) have no typings of
// their own; their shape is the one `echarts.use` takes, as for the `echarts/charts` re-exports.
declare module 'echarts/lib/*.js' {
  import type { use } from 'echarts/core';
  export const install: Exclude<Parameters<typeof use>[0], unknown[]>;
}
