/**
 * Alertmanager's configuration (`alertmanager.yaml`) as a plain function: every alert goes to the stack's
 * configured emails and, when set, its Slack channel; the chart's Watchdog and InfoInhibitor go nowhere; a
 * critical alert silences the warning of the same name. The result holds the Slack webhook and the SMTP
 * password: the component stores it only as a secret.
 * Format: https://prometheus.io/docs/alerting/latest/configuration/ (Alertmanager v0.34.0 in chart 88.5.3).
 */
import { stringify } from "yaml";

/** What the config is built from: plain values, resolved from the stack's secrets by the caller. */
export interface AlertmanagerSettings {
  emails: string[];
  smtp: { smarthost: string; from: string; username?: string; password?: string };
  slack?: { channel: string; webhookUrl: string };
}

/** Receiver of every alert. */
export const ONCALL_RECEIVER = "oncall";
/** Receiver that drops what it gets. */
export const NULL_RECEIVER = "null";

const SLACK_TITLE =
  '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }}';
const SLACK_TEXT = [
  "{{ range .Alerts }}*{{ .Labels.severity }}* {{ .Annotations.summary }}",
  "{{ .Annotations.description }}",
  "Runbook: {{ .Annotations.runbook_url }}",
  "{{ end }}",
].join("\n");

/** The config as an object. */
export function alertmanagerConfig(s: AlertmanagerSettings): Record<string, unknown> {
  if (s.emails.length === 0) throw new Error("alertmanager config: at least one email address is required");
  const global: Record<string, unknown> = {
    resolve_timeout: "5m",
    smtp_smarthost: s.smtp.smarthost,
    smtp_from: s.smtp.from,
    smtp_require_tls: true,
  };
  if (s.smtp.username !== undefined) {
    global.smtp_auth_username = s.smtp.username;
    global.smtp_auth_password = s.smtp.password;
  }
  const oncall: Record<string, unknown> = {
    name: ONCALL_RECEIVER,
    email_configs: s.emails.map((to) => ({ to, send_resolved: true })),
  };
  if (s.slack !== undefined) {
    oncall.slack_configs = [
      { api_url: s.slack.webhookUrl, channel: s.slack.channel, send_resolved: true, title: SLACK_TITLE, text: SLACK_TEXT },
    ];
  }
  return {
    global,
    route: {
      receiver: ONCALL_RECEIVER,
      group_by: ["alertname", "namespace"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [{ receiver: NULL_RECEIVER, matchers: ['alertname =~ "Watchdog|InfoInhibitor"'] }],
    },
    inhibit_rules: [
      { source_matchers: ["severity = critical"], target_matchers: ["severity =~ warning|info"], equal: ["namespace", "alertname"] },
    ],
    receivers: [{ name: NULL_RECEIVER }, oncall],
  };
}

/** The config file's text. */
export function alertmanagerConfigYaml(s: AlertmanagerSettings): string {
  return stringify(alertmanagerConfig(s), { lineWidth: 0 });
}
