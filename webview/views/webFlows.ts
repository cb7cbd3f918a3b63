// The web tester's flows of a task: pass or fail per flow, the failing step's reason and the
// screenshots. Every text here came from a model or a page, so it is bound as text (Lit escapes it);
// images load only from URIs the host hands out for the run's own screenshots (img-src cspSource).
import { html, LitElement, nothing, type PropertyValues, type TemplateResult } from 'lit';
import type { WebFlow, WebFlowResult } from '../../src/shared/model';

export type ScreenshotResolver = (runId: string, artifacts: string[]) => Promise<Record<string, string>>;

export class SmWebFlows extends LitElement {
  static override properties = {
    runId: { attribute: false },
    flows: { attribute: false },
    results: { attribute: false },
    resolveScreenshots: { attribute: false },
  };

  runId = '';
  flows: WebFlow[] = [];
  results?: { attempt: number; results: WebFlowResult[] };
  resolveScreenshots?: ScreenshotResolver;
  private uris: Record<string, string> = {};
  private requested = '';

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  protected override willUpdate(changed: PropertyValues): void {
    if (!changed.has('results') && !changed.has('runId')) return;
    const artifacts = (this.results?.results ?? []).flatMap((result) => result.screenshots.map((shot) => shot.artifact));
    const key = `${this.runId}|${artifacts.join('|')}`;
    if (key === this.requested || !this.resolveScreenshots) return;
    this.requested = key;
    const missing = artifacts.filter((artifact) => !this.uris[artifact]);
    if (!missing.length) return;
    void this.resolveScreenshots(this.runId, missing).then((uris) => {
      this.uris = { ...this.uris, ...uris };
      this.requestUpdate();
    });
  }

  protected override render(): TemplateResult | typeof nothing {
    if (!this.flows.length && !this.results) return nothing;
    const byName = new Map((this.results?.results ?? []).map((result) => [result.flow, result]));
    return html`<h3>Web flows${this.results ? html` <span class="muted">· attempt ${this.results.attempt}</span>` : nothing}</h3>
      <ul class="web-flows" id="web-flows">
        ${this.flows.map((flow) => {
          const result = byName.get(flow.name);
          const icon = !result ? 'codicon-circle-large' : result.ok ? 'codicon-pass' : 'codicon-error';
          return html`<li class="web-flow" data-flow=${flow.name} data-ok=${result ? String(result.ok) : 'pending'}>
            <span class="codicon ${icon}" aria-hidden="true"></span>
            <strong>${flow.name}</strong>
            <span class="muted">${flow.steps.length} step${flow.steps.length === 1 ? '' : 's'}${result ? ` · ${(result.durationMs / 1000).toFixed(1)} s` : ' · not run yet'}</span>
            ${result?.error ? html`<div class="web-flow-error">${result.error}</div>` : nothing}
            ${result?.screenshots.length
              ? html`<div class="web-shots">
                  ${result.screenshots.map((shot) => {
                    const uri = this.uris[shot.artifact];
                    return html`<figure class="web-shot">
                      ${uri ? html`<img src=${uri} alt="Screenshot ${shot.name} of ${flow.name}" loading="lazy" />` : html`<div class="muted">loading…</div>`}
                      <figcaption class="muted">${shot.name}</figcaption>
                    </figure>`;
                  })}
                </div>`
              : nothing}
          </li>`;
        })}
      </ul>`;
  }
}

if (!customElements.get('sm-web-flows')) customElements.define('sm-web-flows', SmWebFlows);
