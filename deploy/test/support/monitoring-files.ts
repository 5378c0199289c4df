import { readRepoFile, readYaml } from "./deploy-files.ts";

export const dashboardPath = "deploy/grafana/dashboards/mimascota-overview.json";
export const alertsPath = "deploy/prometheus/alerts.yml";

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { expr: string; refId: string; datasource?: { type: string; uid: string } }[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: { name: string; type: string; query?: string }[] };
}

export const readDashboard = (): Dashboard => JSON.parse(readRepoFile(dashboardPath)) as Dashboard;

/** Every query of the dashboard, named by its panel. */
export function dashboardQueries(dashboard: Dashboard): { panel: string; expr: string }[] {
  return dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
  );
}

/** Grafana's range variables, replaced by what they stand for so that promtool can parse the query. */
export const withoutGrafanaVariables = (expr: string): string =>
  expr.replaceAll("$__rate_interval", "5m").replaceAll("$__interval", "1m").replaceAll("$__range", "1h");

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function readAlertRules(): AlertRule[] {
  const file = readYaml<{ groups: { name: string; rules: AlertRule[] }[] }>(alertsPath);
  return file.groups.flatMap((group) => group.rules);
}
