/**
 * Apache ECharts, tree-shaken to what the dashboards draw (lines with marked spans, bars), with its
 * built-in Chinese locale. Loaded on demand (the sign-in page does not wait for it).
 */
import { BarChart, LineChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, MarkAreaComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  LineChart,
  BarChart,
  GridComponent,
  TooltipComponent,
  MarkAreaComponent,
  DataZoomComponent,
  CanvasRenderer,
]);

export const init = echarts.init;
