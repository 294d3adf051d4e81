import type { AgentStatus } from "@amp/contract";

const LOOK: Record<AgentStatus, string> = {
  active: "badge badge-good",
  coming_soon: "badge badge-warn",
  draft: "badge badge-muted",
  inactive: "badge badge-muted",
};
const LABEL: Record<AgentStatus, string> = {
  active: "Active",
  coming_soon: "Coming soon",
  draft: "Draft",
  inactive: "Inactive",
};

export const statusLabel = (status: AgentStatus) => LABEL[status];
export function StatusBadge(props: { status: AgentStatus }) {
  return <span className={LOOK[props.status]}>{LABEL[props.status]}</span>;
}
