// Template admins: templates with their versions, publishing a new version in a JSON editor (one field per part of
// the definition, with the engine's validation errors shown next to the part they are about), setting the active
// version, archiving.
import { html, nothing } from 'lit';
import { Page, timeCell, confirmDialog, navigate, emptyRow } from '../ui.js';

const PROVIDERS = ['local', 'docker', 'kubernetes', 'ssh', 'aws-ec2', 'gcp-compute', 'azure-vm'];
const JSON_FIELDS = [
  { name: 'spec', label: 'Spec', hint: 'Provider-specific keys, e.g. {"startupScript": "…"} for local (docs/providers/).', empty: {} },
  { name: 'parameters', label: 'Parameters', hint: 'A list of {name, type: STRING|NUMBER|BOOL, description, defaultValue, allowedValues, mutable, required}.', empty: [] },
  { name: 'policy', label: 'Lifecycle policy', hint: 'ISO-8601 durations: idleTimeout, maxLifetime, autostopAfterFailure, dormancyAfter, deleteAfterDormant.', empty: {} },
  { name: 'pricing', label: 'Pricing', hint: '{runningPerHour, stoppedPerHour, currency}; empty this field to use the price table.', empty: {} },
];
const SECTIONS = ['name', 'description', 'provider', ...JSON_FIELDS.map((f) => f.name)];

/**
 * Sorts the problems of a problem+json `detail` by the part of the definition they are about, so that each shows
 * next to its field. The engine lists every problem of a version at once ("…is invalid: spec: …; policy.idleTimeout
 * …"), names the field of a body it cannot read ("field 'policy.idleTimeout' has the wrong type") and of a bean
 * validation ("invalid request: provider: must not be blank").
 */
export function routeProblems(detail) {
  const errors = {};
  const add = (section, text) => {
    const key = SECTIONS.includes(section) ? section : 'general';
    errors[key] = errors[key] ? `${errors[key]}; ${text}` : text;
  };
  const invalid = /^template version for provider '[^']*' is invalid: (.*)$/s.exec(detail);
  const request = /^invalid request: (.*)$/s.exec(detail);
  if (invalid) {
    for (const problem of invalid[1].split('; ')) {
      if (problem.startsWith('spec: ')) add('spec', problem.slice(6));
      else if (/^(default of )?parameter|^allowed value/.test(problem)) add('parameters', problem);
      else if (problem.startsWith('policy.')) add('policy', problem);
      else if (problem.startsWith('pricing')) add('pricing', problem);
      else add('general', problem);
    }
  } else if (request) {
    for (const problem of request[1].split('; ')) add(problem.split(/[.:[]/)[0].trim(), problem);
  } else {
    const field = /field '([^'.[]+)/.exec(detail);
    if (field) add(field[1], detail);
    else if (/needs a provider/.test(detail)) add('provider', detail);
    else if (/^template name/.test(detail)) add('name', detail);
    else add('general', detail);
  }
  return errors;
}

/** The editor of a template version; `values` prefill it, `errors` are shown next to their fields. */
function definitionEditor(values, errors, { withName = false, withActivate = false } = {}) {
  const error = (name) => (errors[name] ? html`<p class="field-error" id=${`err-${name}`} role="alert">${errors[name]}</p>` : nothing);
  const invalid = (name) => (errors[name] ? 'true' : 'false');
  return html`
    ${withName ? html`<div class="grid">
      <div class="field"><label for="tpl-name">Name</label>
        <input id="tpl-name" name="name" required maxlength="63" autocomplete="off" .value=${values.name || ''}
          aria-invalid=${invalid('name')} aria-describedby="err-name">${error('name')}</div>
      <div class="field wide"><label for="tpl-description">Description</label>
        <input id="tpl-description" name="description" maxlength="2000" .value=${values.description || ''}
          aria-invalid=${invalid('description')} aria-describedby="err-description">${error('description')}</div>
    </div>` : nothing}
    <div class="field"><label for="tpl-provider">Provider</label>
      <input id="tpl-provider" name="provider" list="providers" required .value=${values.provider || 'local'}
        aria-invalid=${invalid('provider')} aria-describedby="err-provider">
      <datalist id="providers">${PROVIDERS.map((p) => html`<option value=${p}></option>`)}</datalist>
      ${error('provider')}</div>
    ${JSON_FIELDS.map((f) => html`
      <div class="field json-field">
        <label for=${`tpl-${f.name}`}>${f.label} <small>(JSON)</small></label>
        <small class="hint" id=${`hint-${f.name}`}>${f.hint}</small>
        <textarea id=${`tpl-${f.name}`} name=${f.name} rows=${f.name === 'parameters' ? 8 : 5} spellcheck="false"
          class="code" aria-invalid=${invalid(f.name)} aria-describedby=${`hint-${f.name} err-${f.name}`}
          .value=${JSON.stringify(values[f.name] ?? f.empty, null, 2)}></textarea>
        ${error(f.name)}
      </div>`)}
    ${withActivate ? html`<label class="inline"><input type="checkbox" name="activate" value="true" checked>
      Make this version active (new workspaces use it)</label>` : nothing}
    ${error('general')}`;
}

/** Reads the editor; JSON that does not parse is reported next to its field before anything is sent. */
function readDefinition(form) {
  const data = new FormData(form);
  const body = {};
  const errors = {};
  for (const name of ['name', 'description']) if (data.has(name)) body[name] = data.get(name) || undefined;
  body.provider = data.get('provider');
  for (const f of JSON_FIELDS) {
    const text = (data.get(f.name) || '').trim();
    if (!text) continue;
    try {
      body[f.name] = JSON.parse(text);
    } catch (e) {
      errors[f.name] = `not valid JSON: ${e.message}`;
    }
  }
  if (form.querySelector('[name="activate"]')) body.activate = data.get('activate') === 'true';
  return { body, errors };
}

class TemplateListPage extends Page {
  static properties = { templates: { state: true }, includeArchived: { state: true } };

  connectedCallback() {
    super.connectedCallback();
    this.load();
  }

  async load() {
    const answer = await this.attempt(() => this.api.get('/api/v1/templates', { includeArchived: this.includeArchived ? 'true' : '' }));
    if (answer) this.templates = answer.templates;
  }

  render() {
    const list = this.templates;
    return html`
      <div class="page-head"><h1>Templates</h1>
        <a class="button primary" href="#/templates/new">New template</a></div>
      ${this.messages()}
      <label class="inline"><input type="checkbox" ?checked=${this.includeArchived}
        @change=${(e) => { this.includeArchived = e.target.checked; this.load(); }}> Show archived templates</label>
      <div class="table-wrap"><table>
        <thead><tr><th scope="col">Name</th><th scope="col">Provider</th><th scope="col">Active version</th>
          <th scope="col">Versions</th><th scope="col">Updated</th><th scope="col">Description</th></tr></thead>
        <tbody>
          ${!list ? emptyRow(6, 'Loading…') : list.length === 0 ? emptyRow(6, 'No templates yet.') : nothing}
          ${(list || []).map((t) => html`<tr data-template=${t.name}>
            <td><a href="#/templates/${t.id}">${t.name}</a>${t.archived ? html` <span class="tag">archived</span>` : nothing}</td>
            <td>${t.provider}</td><td>v${t.version}</td><td>${t.latestVersion}</td><td>${timeCell(t.updatedAt)}</td>
            <td>${t.description || ''}</td></tr>`)}
        </tbody></table></div>`;
  }
}

class TemplatePage extends Page {
  static properties = { template: { state: true }, errors: { state: true }, publishing: { state: true } };

  constructor() {
    super();
    this.errors = {};
  }

  connectedCallback() {
    super.connectedCallback();
    this.isNew = this.params.id === 'new';
    if (!this.isNew) this.load();
  }

  async load() {
    const answer = await this.attempt(() => this.api.get(`/api/v1/templates/${encodeURIComponent(this.params.id)}`));
    if (answer) this.template = answer;
  }

  async submit(event) {
    event.preventDefault();
    const { body, errors } = readDefinition(event.target);
    this.errors = errors;
    if (Object.keys(errors).length) {
      this.error = 'Fix the fields marked below.';
      return;
    }
    this.publishing = true;
    try {
      const path = this.isNew ? '/api/v1/templates' : `/api/v1/templates/${this.template.id}/versions`;
      const saved = await this.api.post(path, body);
      this.error = null;
      this.errors = {};
      if (this.isNew) {
        navigate(`#/templates/${saved.id}`);
      } else {
        this.template = saved;
        this.notice = `Version ${saved.latestVersion} published${body.activate ? ' and active' : ''}.`;
      }
    } catch (e) {
      this.errors = routeProblems(e.detail || String(e));
      this.error = e.detail || String(e);
      this.notice = null;
    } finally {
      this.publishing = false;
    }
  }

  async activate(version) {
    const answer = await this.attempt(() => this.api.post(`/api/v1/templates/${this.template.id}/active-version`, { version }),
      `Version ${version} is now active.`);
    if (answer) this.template = answer;
  }

  async archive() {
    const ok = await confirmDialog({ title: `Archive template ${this.template.name}?`, danger: true,
      message: 'No new workspaces can be created from it; existing workspaces keep running.', confirmLabel: 'Archive' });
    if (!ok) return;
    const answer = await this.attempt(() => this.api.post(`/api/v1/templates/${this.template.id}/archive`),
      'Template archived.');
    if (answer) this.template = answer;
  }

  render() {
    if (this.isNew) {
      return html`<p class="crumbs"><a href="#/templates">Templates</a> › new</p>
        <h1>New template</h1>${this.messages()}
        <form class="card editor" @submit=${this.submit} novalidate>
          ${definitionEditor({ provider: 'local', spec: { startupScript: 'exec sleep infinity' },
            pricing: { runningPerHour: 0.1, stoppedPerHour: 0.01, currency: 'EUR' } }, this.errors, { withName: true })}
          <div class="actions"><button type="submit" class="primary" ?disabled=${this.publishing}>Create template</button></div>
        </form>`;
    }
    const t = this.template;
    if (!t) return html`<h1>Template</h1>${this.messages()}<p>Loading…</p>`;
    return html`
      <p class="crumbs"><a href="#/templates">Templates</a> › ${t.name}</p>
      <div class="page-head"><h1>${t.name}${t.archived ? html` <span class="tag">archived</span>` : nothing}</h1>
        <button type="button" class="danger" ?disabled=${t.archived} @click=${this.archive}>Archive</button></div>
      ${this.messages()}
      ${t.description ? html`<p>${t.description}</p>` : nothing}
      <section aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        <div class="table-wrap"><table class="versions">
          <thead><tr><th scope="col">Version</th><th scope="col">Provider</th><th scope="col">Published by</th>
            <th scope="col">Published</th><th scope="col">Active</th></tr></thead>
          <tbody>${[...t.versions].reverse().map((v) => html`<tr data-version=${v.version}>
            <td>v${v.version}</td><td>${v.provider}</td><td>${v.publishedBy}</td><td>${timeCell(v.publishedAt)}</td>
            <td>${v.version === t.version ? html`<strong>active</strong>`
              : html`<button type="button" class="small secondary" ?disabled=${t.archived}
                  @click=${() => this.activate(v.version)}>Make v${v.version} active</button>`}</td></tr>`)}</tbody>
        </table></div>
      </section>
      <form class="card editor" @submit=${this.submit} novalidate aria-labelledby="publish-title">
        <h2 id="publish-title">Publish a new version</h2>
        <p class="hint">Prefilled with the active version (v${t.version}). The engine validates the spec with the
          provider; its problems show next to the field they are about.</p>
        ${definitionEditor(t, this.errors, { withActivate: true })}
        <div class="actions"><button type="submit" class="primary" ?disabled=${this.publishing || t.archived}>Publish version ${t.latestVersion + 1}</button></div>
      </form>`;
  }
}

customElements.define('template-list-page', TemplateListPage);
customElements.define('template-detail-page', TemplatePage);
