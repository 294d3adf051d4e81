import type { AgentDto } from "@amp/contract";

/** The agent's icon, or its initial on the brand colour when it has none. */
export function AgentIcon(props: { agent: Pick<AgentDto, "name" | "iconUrl">; large?: boolean }) {
  const className = props.large ? "icon icon-lg" : "icon";
  if (props.agent.iconUrl) return <img className={className} src={props.agent.iconUrl} alt="" />;
  return (
    <span className={className} aria-hidden="true">
      {props.agent.name.trim().charAt(0).toUpperCase() || "?"}
    </span>
  );
}
