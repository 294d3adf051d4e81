import type { AgentDto, SubscriptionDto } from "@amp/contract";
import { Link, useParams, useSearchParams } from "react-router";
import { signInUrl } from "../api/client.ts";
import { usePlanActions } from "../api/plans.ts";
import { type TierWithQuotas, useAgent, useMe, usePricing, useSubscriptions } from "../api/queries.ts";
import { formatDate, formatPrice, quotaLines } from "../app/format.ts";
import { AgentIcon } from "../components/AgentIcon.tsx";
import { ErrorAlert, QueryState } from "../components/QueryState.tsx";
import { NotFoundPage } from "./NotFoundPage.tsx";

/** An agent's page: what it is, screenshots, its plans worded per period, Open agent, subscribe. */
export function AgentPage() {
  const { slug = "" } = useParams();
  const agent = useAgent(slug);
  if (agent.error && "status" in agent.error && agent.error.status === 404) return <NotFoundPage />;
  return (
    <QueryState isPending={agent.isPending} error={agent.error}>
      {agent.data && <AgentDetails agent={agent.data} />}
    </QueryState>
  );
}

function AgentDetails({ agent }: { agent: AgentDto }) {
  const pricing = usePricing(agent.id);
  // An agent's upgrade link names where to come back to (`?returnUrl=`); the marketplace checks it.
  const [params] = useSearchParams();
  const returnUrl = params.get("returnUrl") ?? `${window.location.origin}/account`;
  const { me } = useMe();
  const subscriptions = useSubscriptions(Boolean(me));
  const live = subscriptions.data?.find(
    (s) => s.agentId === agent.id && (s.status === "active" || s.status === "trialing"),
  );
  return (
    <div className="stack">
      <nav aria-label="Breadcrumb" className="muted">
        <Link to="/">Catalog</Link> / {agent.name}
      </nav>
      <section className="card agent-hero">
        <AgentIcon agent={agent} large />
        <div>
          <h1>{agent.name}</h1>
          {agent.tagline && <p className="muted">{agent.tagline}</p>}
          <div className="actions">
            {agent.productDomain && (
              <a className="btn btn-primary" href={agent.productDomain}>
                Open agent
              </a>
            )}
            <a className="btn btn-ghost" href="#plans">
              See plans
            </a>
            {agent.docsUrl && (
              <a className="btn btn-ghost" href={agent.docsUrl}>
                Docs
              </a>
            )}
          </div>
        </div>
      </section>
      {(agent.description || agent.longDescription) && (
        <section className="card">
          <h2>About</h2>
          {agent.description && <p>{agent.description}</p>}
          {agent.longDescription?.split(/\n{2,}/).map((paragraph) => (
            <p key={paragraph}>{paragraph}</p>
          ))}
        </section>
      )}
      {agent.photoUrls.length > 0 && (
        <section className="card">
          <h2>Screenshots</h2>
          <div className="screens">
            {agent.photoUrls.map((url, i) => (
              <img key={url} src={url} alt={`${agent.name} screenshot ${i + 1}`} loading="lazy" />
            ))}
          </div>
        </section>
      )}
      <section id="plans" aria-labelledby="plans-title">
        <h2 id="plans-title">Plans</h2>
        {live && (
          <p className="alert alert-info">
            You are on <strong>{live.tier.tierName}</strong>. Manage it from{" "}
            <Link to="/account">your account</Link>.
          </p>
        )}
        <QueryState isPending={pricing.isPending} error={pricing.error}>
          <div className="plans">
            {pricing.data?.tiers.map((entry) => (
              <PlanCard
                key={entry.tier.id}
                agent={agent}
                entry={entry}
                metrics={pricing.data.metrics}
                live={live}
                signedIn={Boolean(me)}
                returnUrl={returnUrl}
              />
            ))}
          </div>
        </QueryState>
      </section>
    </div>
  );
}

function PlanCard(props: {
  agent: AgentDto;
  entry: TierWithQuotas;
  metrics: NonNullable<ReturnType<typeof usePricing>["data"]>["metrics"];
  live: SubscriptionDto | undefined;
  signedIn: boolean;
  returnUrl: string;
}) {
  const { tier, quotas } = props.entry;
  const lines = quotaLines(tier, props.metrics, quotas);
  const current = props.live?.tierId === tier.id;
  const scheduled = props.live?.scheduledTierId === tier.id;
  return (
    <article
      className={`card plan${tier.recommended ? " recommended" : ""}`}
      aria-label={`${tier.tierName} plan`}
    >
      <div className="sub-head">
        <h3>{tier.tierName}</h3>
        {tier.recommended && <span className="badge">Recommended</span>}
      </div>
      <div className="price">{formatPrice(tier)}</div>
      {tier.trialDays > 0 && <p className="muted">{tier.trialDays}-day free trial</p>}
      <ul>
        {lines.map((line) =>
          line.feature ? (
            <li key={line.metric.id} className={line.included ? "yes" : "no"}>
              {line.text} <span className="muted">{line.included ? "included" : "not included"}</span>
            </li>
          ) : (
            <li key={line.metric.id} className={line.included ? "yes" : "no"}>
              {line.text}
            </li>
          ),
        )}
        {tier.featuresIncluded.map((feature) => (
          <li key={feature} className="yes">
            {feature}
          </li>
        ))}
      </ul>
      {current ? (
        <p className="badge badge-good" style={{ alignSelf: "flex-start" }}>
          Your current plan
        </p>
      ) : scheduled ? (
        <p className="muted">
          Starts {props.live?.currentPeriodEnd ? formatDate(props.live.currentPeriodEnd) : "at period end"}
        </p>
      ) : props.signedIn ? (
        <ChooseButton
          agent={props.agent}
          tierId={tier.id}
          label={chooseLabel(tier.isFree, props.live)}
          returnUrl={props.returnUrl}
        />
      ) : (
        <a
          className="btn btn-primary btn-block"
          href={signInUrl(`${location.pathname}${location.search}#plans`)}
        >
          Sign in to subscribe
        </a>
      )}
    </article>
  );
}

const chooseLabel = (free: boolean, live: SubscriptionDto | undefined) =>
  !live ? (free ? "Start free" : "Subscribe") : free ? "Switch to this plan" : "Upgrade";

function ChooseButton(props: { agent: AgentDto; tierId: string; label: string; returnUrl: string }) {
  const { changePlan } = usePlanActions(props.agent.id);
  return (
    <>
      <ErrorAlert error={changePlan.error} />
      <button
        type="button"
        className="btn btn-primary btn-block"
        disabled={changePlan.isPending}
        onClick={() => changePlan.mutate({ tierId: props.tierId, returnUrl: props.returnUrl })}
      >
        {changePlan.isPending ? "Working…" : props.label}
      </button>
    </>
  );
}
