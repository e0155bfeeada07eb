// A workspace's own page: its status live (GET /api/v1/workspaces/{id}/watch), history with build numbers, reasons
// and errors, how to connect (with the ssh_config snippet to copy), the next automatic stop with a countdown and an
// "extend" button, and start/stop/update/delete.
import { html, nothing } from 'lit';
import { Page, statusBadge, timeCell, liveIndicator, humanDuration, humanSeconds, copyText, emptyRow } from '../ui.js';
import { transition, canStart, canStop, canDelete, parameterInputs, parameterValues, newer } from './workspaces.js';

const EXTENSIONS = [['PT1H', '1 hour'], ['PT4H', '4 hours'], ['PT8H', '8 hours'], ['P1D', '1 day']];
const HISTORY_SKIP = new Set(['workspaceId', 'buildNumber', 'actor', 'reason']);

class WorkspacePage extends Page {
  static properties = {
    workspace: { state: true },
    history: { state: true },
    connection: { state: true },
    template: { state: true },
    live: { state: true },
    liveDetail: { state: true },
    now: { state: true },
    updating: { state: true },
    copied: { state: true },
  };

  constructor() {
    super();
    this.live = 'connecting';
    this.now = Date.now();
  }

  connectedCallback() {
    super.connectedCallback();
    this.workspaceId = this.params.id;
    // The watch stream starts with the current state; every change after it reloads history and connection.
    this.closeWatch = this.api.watch(`/api/v1/workspaces/${encodeURIComponent(this.workspaceId)}/watch`, {
      onOpen: () => this.load(),
      onEvent: (view) => this.changed(view),
      onState: (state, detail) => { this.live = state; this.liveDetail = detail; },
    });
    // The countdown to the next automatic stop is a clock on this page, not a poll of the engine.
    this.clock = setInterval(() => { this.now = Date.now(); }, 1000);
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    if (this.closeWatch) this.closeWatch();
    clearInterval(this.clock);
  }

  async load() {
    const detail = await this.attempt(() => this.api.get(`/api/v1/workspaces/${encodeURIComponent(this.workspaceId)}`));
    if (!detail) return;
    if (!this.workspace || newer(detail, this.workspace)) this.workspace = detail;
    else this.workspace = { ...this.workspace, activity: detail.activity };
    this.loadRelated();
    if (!this.template || this.template.id !== detail.templateId) {
      this.template = await this.api.get(`/api/v1/templates/${detail.templateId}`).catch(() => null);
    }
  }

  async changed(view) {
    if (this.workspace && !newer(view, this.workspace)) return;
    this.workspace = { ...view, activity: this.workspace ? this.workspace.activity : null };
    const detail = await this.api.get(`/api/v1/workspaces/${encodeURIComponent(this.workspaceId)}`).catch(() => null);
    if (detail && newer(detail, this.workspace)) this.workspace = detail;
    else if (detail) this.workspace = { ...this.workspace, activity: detail.activity };
    this.loadRelated();
  }

  async loadRelated() {
    const id = encodeURIComponent(this.workspaceId);
    const history = await this.api.get(`/api/v1/workspaces/${id}/history`).catch((e) => { this.error = e.detail; });
    if (history) this.history = history.events;
    if (this.workspace && this.workspace.status === 'RUNNING' && this.workspace.connection) {
      this.connection = await this.api.get(`/api/v1/workspaces/${id}/connection`).catch(() => null);
    } else {
      this.connection = null;
    }
  }

  async act(action) {
    const answer = await transition(this, this.workspace, action);
    if (answer && action === 'delete') this.notice = `Deleting ${this.workspace.name}; it stays listed as DELETED.`;
  }

  async extend(event) {
    event.preventDefault();
    const duration = new FormData(event.target).get('duration');
    const answer = await this.attempt(() => this.api.post(`/api/v1/workspaces/${this.workspaceId}/extend`, { duration }));
    if (answer) {
      this.notice = `Kept alive until ${new Date(answer.keepAliveUntil).toLocaleString()}.`;
      this.load();
    }
  }

  async submitUpdate(event) {
    event.preventDefault();
    const form = event.target;
    const version = new FormData(form).get('templateVersion');
    const body = { templateVersion: version ? Number(version) : undefined, parameters: parameterValues(form) };
    const answer = await this.attempt(() => this.api.post(`/api/v1/workspaces/${this.workspaceId}/update`, body),
      'Update accepted: the new template version and parameters apply on the next start.');
    if (answer !== undefined) {
      this.updating = false;
      this.load();
    }
  }

  async copy() {
    const copied = await copyText(this.connection.sshConfig, this.querySelector('#ssh-config'));
    this.copied = copied ? 'Copied to the clipboard.' : 'Selected: press Ctrl+C to copy.';
  }

  renderAutoStop(activity) {
    const ws = this.workspace;
    const stop = (activity && activity.nextAutoStop) || ws.autoStop;
    const seconds = stop ? (new Date(stop.at).getTime() - this.now) / 1000 : null;
    return html`
      <section class="card" aria-labelledby="idle-title">
        <h2 id="idle-title">Automatic stop</h2>
        <dl class="facts">
          <dt>Next automatic stop</dt>
          <dd data-next-stop>${stop ? html`in <strong>${humanSeconds(Math.max(0, seconds))}</strong>
            (${stop.reason}, ${timeCell(stop.at)})` : 'none scheduled'}</dd>
          ${activity ? html`
            <dt>Idle timeout</dt><dd>${activity.policy && activity.policy.idleTimeout ? humanDuration(activity.policy.idleTimeout) : 'never'}</dd>
            <dt>Idle for</dt><dd>${activity.idleFor ? humanDuration(activity.idleFor) : 'in use'}</dd>
            <dt>Last activity</dt><dd>${timeCell(activity.lastActivityAt)}</dd>
            <dt>Open connections</dt><dd>${Object.entries(activity.openConnections || {}).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none'}</dd>
            <dt>Kept alive until</dt><dd>${timeCell(activity.keepAliveUntil)}</dd>
            ${activity.policy && activity.policy.maxLifetime ? html`<dt>Max lifetime</dt><dd>${humanDuration(activity.policy.maxLifetime)}</dd>` : nothing}` : nothing}
        </dl>
        ${ws.status === 'RUNNING' ? html`
          <form class="inline-form" @submit=${this.extend}>
            <label for="extend-by">Keep it running for</label>
            <select id="extend-by" name="duration">${EXTENSIONS.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select>
            <button type="submit" class="secondary">Extend</button>
          </form>` : nothing}
      </section>`;
  }

  renderConnection() {
    const c = this.connection;
    if (!c) {
      return html`<section class="card" aria-labelledby="conn-title"><h2 id="conn-title">Connect</h2>
        <p class="hint">Connection details appear while the workspace is RUNNING.</p></section>`;
    }
    const facts = Object.entries(c).filter(([k]) => !['sshConfig', 'workspaceId'].includes(k));
    return html`
      <section class="card" aria-labelledby="conn-title">
        <h2 id="conn-title">Connect</h2>
        <dl class="facts">${facts.map(([k, v]) => html`<dt>${k}</dt><dd><code>${v}</code></dd>`)}</dl>
        ${c.sshConfig ? html`
          <div class="copy-block">
            <div class="copy-head"><span id="ssh-config-label">Add to <code>~/.ssh/config</code></span>
              <button type="button" class="secondary small" @click=${this.copy} aria-describedby="ssh-config-label">Copy SSH config</button></div>
            <pre id="ssh-config" tabindex="0" aria-labelledby="ssh-config-label">${c.sshConfig}</pre>
            <p class="notice" role="status" aria-live="polite">${this.copied || ''}</p>
          </div>` : nothing}
      </section>`;
  }

  renderUpdate() {
    const t = this.template;
    const versions = t && t.versions ? t.versions : [];
    return html`
      <form class="card" @submit=${this.submitUpdate} aria-labelledby="update-title">
        <h2 id="update-title">Update to another template version</h2>
        <p class="hint">Applied on the next start. Parameters shown are those of the template's active version
          (v${t ? t.version : '?'}); the engine checks them against the version you choose.</p>
        <div class="field"><label for="upd-version">Template version</label>
          <select id="upd-version" name="templateVersion">
            ${versions.map((v) => html`<option value=${v.version} ?selected=${t && v.version === t.version}>
              v${v.version}${t && v.version === t.version ? ' (active)' : ''}${v.version === this.workspace.templateVersion ? ' (current)' : ''}</option>`)}
          </select></div>
        ${t ? parameterInputs(t.parameters, {}, { idPrefix: 'upd', onlyMutable: true }) : nothing}
        <div class="actions">
          <button type="button" class="secondary" @click=${() => { this.updating = false; }}>Cancel</button>
          <button type="submit" class="primary">Update</button>
        </div>
      </form>`;
  }

  renderHistory() {
    const events = this.history;
    return html`
      <section aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <div class="table-wrap"><table class="history">
          <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Build</th>
            <th scope="col">Actor</th><th scope="col">Reason</th><th scope="col">Details</th></tr></thead>
          <tbody>
            ${!events ? emptyRow(6, 'Loading…') : nothing}
            ${(events || []).map((e) => {
              const data = e.data || {};
              const error = data.error || data.providerError;
              const rest = Object.entries(data).filter(([k, v]) => !HISTORY_SKIP.has(k) && k !== 'error'
                && k !== 'providerError' && v !== null && typeof v !== 'object');
              return html`<tr data-type=${e.type}>
                <td>${timeCell(e.time)}</td><td>${e.type}</td><td>${e.buildNumber ? `#${e.buildNumber}` : '—'}</td>
                <td>${e.actor || '—'}</td><td>${e.reason || '—'}</td>
                <td>${error ? html`<div class="error-text">${error}</div>` : nothing}
                  ${rest.map(([k, v]) => html`<span class="kv">${k}=${String(v)}</span> `)}</td></tr>`;
            })}
          </tbody></table></div>
      </section>`;
  }

  render() {
    const ws = this.workspace;
    if (!ws) {
      return html`<h1>Workspace</h1>${this.messages()}<p>Loading…</p>`;
    }
    const last = ws.lastTransition;
    const activity = ws.activity;
    return html`
      <p class="crumbs"><a href="#/workspaces">Workspaces</a> › ${ws.name}</p>
      <div class="page-head">
        <h1>${ws.name} ${statusBadge(ws.status)}</h1>
        ${liveIndicator(this.live, this.liveDetail)}
        <div class="row-actions">
          <button type="button" ?disabled=${!canStart(ws)} @click=${() => this.act('start')}>Start</button>
          <button type="button" ?disabled=${!canStop(ws)} @click=${() => this.act('stop')}>Stop</button>
          <button type="button" ?disabled=${ws.status === 'DELETED'} @click=${() => { this.updating = !this.updating; }}
            aria-expanded=${this.updating ? 'true' : 'false'}>Update…</button>
          <button type="button" class="danger" ?disabled=${!canDelete(ws)} @click=${() => this.act('delete')}>Delete</button>
        </div>
      </div>
      ${this.messages()}
      ${this.updating ? this.renderUpdate() : nothing}
      <div class="cards">
        <section class="card" aria-labelledby="about-title">
          <h2 id="about-title">About</h2>
          <dl class="facts">
            <dt>Status</dt><dd data-status-text>${ws.status}${ws.dormant ? ' (dormant)' : ''}</dd>
            <dt>Build</dt><dd>#${ws.buildNumber}</dd>
            <dt>Last transition</dt><dd>${last ? `${last.transition} · ${last.reason} · by ${last.actor || '—'}` : '—'}
              ${last && last.error ? html`<div class="error-text">${last.error}</div>` : nothing}</dd>
            <dt>Owner</dt><dd>${ws.owner}</dd>
            <dt>Team</dt><dd>${ws.team || '—'}</dd>
            <dt>Kind</dt><dd>${ws.kind}</dd>
            <dt>Template</dt><dd>${this.template ? this.template.name : ws.templateId} v${ws.templateVersion} (${ws.provider})</dd>
            <dt>Labels</dt><dd>${Object.entries(ws.labels || {}).map(([k, v]) => html`<span class="tag">${k}=${v}</span> `)}${Object.keys(ws.labels || {}).length ? nothing : '—'}</dd>
            <dt>Created</dt><dd>${timeCell(ws.createdAt)}</dd>
            <dt>Updated</dt><dd>${timeCell(ws.updatedAt)}</dd>
            <dt>Id</dt><dd><code>${ws.id}</code></dd>
          </dl>
        </section>
        ${this.renderConnection()}
        ${this.renderAutoStop(activity)}
      </div>
      ${this.renderHistory()}`;
  }
}

customElements.define('ws-detail-page', WorkspacePage);
