// Developers: the workspace list, live over the watch stream (GET /api/v1/workspaces/watch), with filters, paging,
// start/stop/delete, and creating a workspace from a template with typed parameter inputs.
import { html, nothing } from 'lit';
import { Page, STATUSES, statusBadge, timeCell, liveIndicator, confirmDialog, emptyRow } from '../ui.js';

const PAGE_SIZE = 50;

/** Whether view `a` of a workspace is newer than `b` (a later build, or the same build changed later). */
export function newer(a, b) {
  if (!b) return true;
  if (a.buildNumber !== b.buildNumber) return a.buildNumber > b.buildNumber;
  return (a.updatedAt || '') >= (b.updatedAt || '');
}

export function canStart(ws) { return ['STOPPED', 'FAILED'].includes(ws.status); }
export function canStop(ws) { return ['RUNNING', 'STARTING'].includes(ws.status); }
export function canDelete(ws) { return !['DELETED', 'DELETING'].includes(ws.status); }

/** Start, stop or delete (after asking) a workspace; shared by the list and the workspace page. */
export async function transition(page, ws, action) {
  if (action === 'delete') {
    const answer = await confirmDialog({
      title: `Delete workspace ${ws.name}?`,
      message: 'Its resources and files are removed by the provider. This cannot be undone.',
      confirmLabel: 'Delete', danger: true,
      extra: html`<label class="inline"><input type="checkbox" name="force" value="true">
        Force: remove the record even if the provider cannot find or remove the resource</label>`,
    });
    if (!answer) return null;
    return page.attempt(() => page.api.delete(`/api/v1/workspaces/${ws.id}`, { force: answer.force ? 'true' : '' }),
      `Deleting ${ws.name}…`);
  }
  return page.attempt(() => page.api.post(`/api/v1/workspaces/${ws.id}/${action}`),
    `${action === 'start' ? 'Starting' : 'Stopping'} ${ws.name}…`);
}

/** Typed inputs for the parameters of a template version: select for allowed values, number, checkbox, text. */
export function parameterInputs(parameters, values = {}, { idPrefix = 'param', onlyMutable = false } = {}) {
  const shown = (parameters || []).filter((p) => !onlyMutable || p.mutable);
  if (shown.length === 0) return html`<p class="hint">This template version has no parameters.</p>`;
  return html`<fieldset class="parameters"><legend>Parameters</legend>
    ${shown.map((p) => {
      const id = `${idPrefix}-${p.name}`;
      const value = values[p.name] ?? p.defaultValue ?? '';
      const describedBy = p.description ? `${id}-help` : undefined;
      let input;
      if (p.allowedValues && p.allowedValues.length) {
        input = html`<select id=${id} name=${`param:${p.name}`} ?required=${p.required} aria-describedby=${describedBy || nothing}>
          ${p.required ? nothing : html`<option value="">(default${p.defaultValue ? `: ${p.defaultValue}` : ''})</option>`}
          ${p.allowedValues.map((v) => html`<option value=${v} ?selected=${v === value}>${v}</option>`)}</select>`;
      } else if (p.type === 'BOOL') {
        input = html`<input id=${id} type="checkbox" name=${`param:${p.name}`} value="true" data-bool
          ?checked=${value === 'true'} aria-describedby=${describedBy || nothing}>`;
      } else if (p.type === 'NUMBER') {
        input = html`<input id=${id} type="number" step="any" name=${`param:${p.name}`} .value=${value}
          ?required=${p.required} aria-describedby=${describedBy || nothing}>`;
      } else {
        input = html`<input id=${id} type="text" name=${`param:${p.name}`} .value=${value}
          ?required=${p.required} aria-describedby=${describedBy || nothing}>`;
      }
      return html`<div class="field">
        <label for=${id}>${p.name}${p.required ? html` <abbr title="required">*</abbr>` : nothing}
          <small class="type">${p.type || 'STRING'}${p.mutable ? '' : ', fixed after create'}</small></label>
        ${input}
        ${p.description ? html`<small id=${`${id}-help`} class="hint">${p.description}</small>` : nothing}
      </div>`;
    })}</fieldset>`;
}

/** The parameter values of a form built with parameterInputs (booleans as "true"/"false"). */
export function parameterValues(form) {
  const values = {};
  form.querySelectorAll('[name^="param:"]').forEach((input) => {
    const name = input.name.slice('param:'.length);
    if (input.dataset.bool !== undefined) values[name] = input.checked ? 'true' : 'false';
    else if (input.value !== '') values[name] = input.value;
  });
  return values;
}

class WorkspaceListPage extends Page {
  static properties = {
    workspaces: { state: true },
    nextCursor: { state: true },
    filters: { state: true },
    templates: { state: true },
    creating: { state: true },
    chosenTemplate: { state: true },
    live: { state: true },
    liveDetail: { state: true },
  };

  constructor() {
    super();
    this.workspaces = null;
    this.filters = { status: '', kind: '', team: '', templateId: '', owner: '' };
    this.templates = [];
    this.live = 'connecting';
    this.streamed = new Map();
  }

  connectedCallback() {
    super.connectedCallback();
    this.isOwner = this.session.roles.includes('owner');
    this.loadTemplates();
    // The first page is loaded each time the stream is (re)established: then no change can fall in between.
    this.closeWatch = this.api.watch('/api/v1/workspaces/watch', {
      onOpen: () => this.load(),
      onEvent: (ws) => this.apply(ws),
      onState: (state, detail) => { this.live = state; this.liveDetail = detail; },
    });
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    if (this.closeWatch) this.closeWatch();
  }

  async loadTemplates() {
    const answer = await this.attempt(() => this.api.get('/api/v1/templates'));
    if (answer) this.templates = answer.templates;
  }

  async load(more = false) {
    const answer = await this.attempt(() => this.api.get('/api/v1/workspaces', {
      ...this.filters, limit: PAGE_SIZE, cursor: more ? this.nextCursor : '' }));
    if (!answer) return;
    // A change that came over the stream while this page was on its way is newer than what the page says.
    const page = answer.workspaces.map((ws) => (this.streamed.has(ws.id) && newer(this.streamed.get(ws.id), ws)
      ? this.streamed.get(ws.id) : ws));
    this.workspaces = more ? [...this.workspaces, ...page] : page;
    this.nextCursor = answer.nextCursor;
  }

  matches(ws) {
    return Object.entries(this.filters).every(([key, value]) => !value || String(ws[key] || '') === value);
  }

  /** A change from the stream: update the row, add a new workspace that matches the filters, drop one that left them. */
  apply(ws, { onlyIfAbsent = false } = {}) {
    if (!onlyIfAbsent) this.streamed.set(ws.id, ws);
    if (!this.workspaces) return;
    const index = this.workspaces.findIndex((w) => w.id === ws.id);
    if (index >= 0 && (onlyIfAbsent || !newer(ws, this.workspaces[index]))) return;
    const list = [...this.workspaces];
    if (index >= 0 && this.matches(ws)) list[index] = ws;
    else if (index >= 0) list.splice(index, 1);
    else if (this.matches(ws)) list.unshift(ws);
    else return;
    this.workspaces = list;
  }

  onFilter(event) {
    event.preventDefault();
    this.filters = Object.fromEntries(new FormData(event.target).entries());
    this.load();
  }

  templateName(id) {
    const template = this.templates.find((t) => t.id === id);
    return template ? template.name : id.slice(0, 8);
  }

  async act(ws, action) {
    await transition(this, ws, action);
  }

  async create(event) {
    event.preventDefault();
    const form = event.target;
    const data = new FormData(form);
    const labels = {};
    for (const line of (data.get('labels') || '').split('\n')) {
      const at = line.indexOf('=');
      if (at > 0) labels[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
    const body = {
      name: data.get('name'), templateId: data.get('templateId'), kind: data.get('kind'),
      team: data.get('team') || undefined, owner: data.get('owner') || undefined,
      parameters: parameterValues(form), labels,
    };
    const created = await this.attempt(() => this.api.post('/api/v1/workspaces', body),
      `Workspace ${body.name} accepted; it starts now.`);
    if (created) {
      this.creating = false;
      this.apply({ ...created, updatedAt: '' }, { onlyIfAbsent: true });
    }
  }

  renderCreate() {
    const active = this.templates.filter((t) => !t.archived);
    const template = active.find((t) => t.id === this.chosenTemplate) || active[0];
    return html`
      <form class="card create" @submit=${this.create} aria-labelledby="create-title">
        <h2 id="create-title">New workspace</h2>
        <div class="grid">
          <div class="field"><label for="ws-name">Name</label>
            <input id="ws-name" name="name" required maxlength="63" pattern="[a-z0-9]+(-[a-z0-9]+)*"
              title="lower-case letters, digits and '-'" autocomplete="off"></div>
          <div class="field"><label for="ws-template">Template</label>
            <select id="ws-template" name="templateId" required
              @change=${(e) => { this.chosenTemplate = e.target.value; }}>
              ${active.map((t) => html`<option value=${t.id} ?selected=${template && t.id === template.id}>
                ${t.name} (v${t.version}, ${t.provider})</option>`)}
            </select></div>
          <div class="field"><label for="ws-kind">Kind</label>
            <select id="ws-kind" name="kind"><option value="HUMAN">Human</option><option value="AGENT">Agent</option></select></div>
          <div class="field"><label for="ws-team">Team <small>(optional)</small></label>
            <input id="ws-team" name="team" maxlength="100" autocomplete="off"></div>
          ${this.isOwner ? html`<div class="field"><label for="ws-owner">Owner <small>(default: you)</small></label>
            <input id="ws-owner" name="owner" maxlength="100" autocomplete="off"></div>` : nothing}
          <div class="field wide"><label for="ws-labels">Labels <small>(one key=value per line)</small></label>
            <textarea id="ws-labels" name="labels" rows="2"></textarea></div>
        </div>
        ${template ? html`${template.description ? html`<p class="hint">${template.description}</p>` : nothing}
          ${parameterInputs(template.parameters, {}, { idPrefix: `param-${template.id.slice(0, 8)}` })}`
          : html`<p class="hint">No template yet: a template admin publishes one first.</p>`}
        <div class="actions">
          <button type="button" class="secondary" @click=${() => { this.creating = false; }}>Cancel</button>
          <button type="submit" class="primary" ?disabled=${!template}>Create workspace</button>
        </div>
      </form>`;
  }

  renderFilters() {
    const f = this.filters;
    return html`
      <form class="filters" @submit=${this.onFilter} aria-label="Filter workspaces">
        <div class="field"><label for="f-status">Status</label>
          <select id="f-status" name="status"><option value="">any</option>
            ${STATUSES.map((s) => html`<option ?selected=${f.status === s}>${s}</option>`)}</select></div>
        <div class="field"><label for="f-kind">Kind</label>
          <select id="f-kind" name="kind"><option value="">any</option>
            ${['HUMAN', 'AGENT'].map((k) => html`<option ?selected=${f.kind === k}>${k}</option>`)}</select></div>
        <div class="field"><label for="f-team">Team</label><input id="f-team" name="team" .value=${f.team}></div>
        <div class="field"><label for="f-template">Template</label>
          <select id="f-template" name="templateId"><option value="">any</option>
            ${this.templates.map((t) => html`<option value=${t.id} ?selected=${f.templateId === t.id}>${t.name}</option>`)}
          </select></div>
        ${this.isOwner ? html`<div class="field"><label for="f-owner">Owner</label>
          <input id="f-owner" name="owner" .value=${f.owner}></div>` : nothing}
        <button type="submit" class="secondary">Apply filters</button>
      </form>`;
  }

  render() {
    const list = this.workspaces;
    return html`
      <div class="page-head">
        <h1>Workspaces</h1>
        ${liveIndicator(this.live, this.liveDetail)}
        <button type="button" class="primary" @click=${() => { this.creating = !this.creating; }}
          aria-expanded=${this.creating ? 'true' : 'false'}>New workspace</button>
      </div>
      ${this.messages()}
      ${this.creating ? this.renderCreate() : nothing}
      ${this.renderFilters()}
      <div class="table-wrap">
        <table class="workspaces">
          <caption class="visually-hidden">Workspaces, newest first</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Owner</th>
            <th scope="col">Team</th><th scope="col">Template</th><th scope="col">Build</th>
            <th scope="col">Last transition</th><th scope="col">Updated</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            ${list === null ? emptyRow(9, 'Loading…') : list.length === 0 ? emptyRow(9, 'No workspaces match.') : nothing}
            ${(list || []).map((ws) => html`
              <tr data-workspace=${ws.name} data-id=${ws.id}>
                <td><a href="#/workspaces/${ws.id}">${ws.name}</a>${ws.kind === 'AGENT' ? html` <span class="tag">agent</span>` : nothing}</td>
                <td>${statusBadge(ws.status)}</td>
                <td>${ws.owner}</td>
                <td>${ws.team || '—'}</td>
                <td>${this.templateName(ws.templateId)}${ws.templateVersion ? ` v${ws.templateVersion}` : ''}</td>
                <td>#${ws.buildNumber}</td>
                <td>${ws.lastTransition ? html`${ws.lastTransition.transition} · ${ws.lastTransition.reason}
                  ${ws.lastTransition.error ? html`<div class="error-text">${ws.lastTransition.error}</div>` : nothing}` : '—'}</td>
                <td>${timeCell(ws.updatedAt)}</td>
                <td class="row-actions">
                  <button type="button" class="small" ?disabled=${!canStart(ws)} @click=${() => this.act(ws, 'start')}
                    aria-label="Start ${ws.name}">Start</button>
                  <button type="button" class="small" ?disabled=${!canStop(ws)} @click=${() => this.act(ws, 'stop')}
                    aria-label="Stop ${ws.name}">Stop</button>
                  <button type="button" class="small danger" ?disabled=${!canDelete(ws)} @click=${() => this.act(ws, 'delete')}
                    aria-label="Delete ${ws.name}">Delete</button>
                </td>
              </tr>`)}
          </tbody>
        </table>
      </div>
      ${this.nextCursor ? html`<button type="button" class="secondary" @click=${() => this.load(true)}>Load more</button>` : nothing}`;
  }
}

customElements.define('ws-list-page', WorkspaceListPage);
