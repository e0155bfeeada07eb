// Compliance officers: the audit trail with every filter and the q= search syntax (in the page's address, so that a
// filtered view can be bookmarked or shared), cursor paging, an entry's detail with its diff, verifying the hash
// chain, and exporting CSV or JSON Lines for the current filter.
import { html, nothing } from 'lit';
import { Page, timeCell, emptyRow, navigate } from '../ui.js';

const FILTERS = [
  { name: 'actor', label: 'Actor', hint: 'e.g. alice, atelier' },
  { name: 'action', label: 'Action', hint: 'e.g. stop,delete' },
  { name: 'resourceType', label: 'Resource type', options: ['', 'workspace', 'template', 'token', 'audit', 'budget'] },
  { name: 'resourceId', label: 'Resource id', hint: 'a workspace or template id' },
  { name: 'outcome', label: 'Outcome', options: ['', 'success', 'failure', 'denied'] },
  { name: 'requestId', label: 'Request id', hint: 'X-Request-Id' },
  { name: 'from', label: 'From', hint: '2026-11-01 or an ISO instant' },
  { name: 'to', label: 'To (exclusive)', hint: '2026-12-01 or an ISO instant' },
];
const FIELDS = ['seq', 'time', 'actorId', 'actorType', 'action', 'phase', 'resourceType', 'resourceId', 'resourceName',
  'outcome', 'reason', 'buildNumber', 'statusCode', 'error', 'requestId', 'clientIp', 'userAgent', 'eventId',
  'eventIndex', 'prevHash', 'hash'];

class AuditPage extends Page {
  static properties = {
    entries: { state: true },
    nextCursor: { state: true },
    cursors: { state: true },
    selected: { state: true },
    verification: { state: true },
    verifying: { state: true },
  };

  constructor() {
    super();
    this.cursors = [];
  }

  connectedCallback() {
    super.connectedCallback();
    const { id, ...filters } = this.params;
    this.filters = filters;
    this.load();
  }

  /** The filters of the form, without empty ones. */
  filterValues() {
    return Object.fromEntries(Object.entries(this.filters).filter(([k, v]) => v && !['limit', 'order'].includes(k)));
  }

  async load(cursor = null) {
    const params = { ...this.filterValues(), limit: this.filters.limit || 50, order: this.filters.order || '', cursor };
    const answer = await this.attempt(() => this.api.get('/api/v1/audit', params));
    if (!answer) {
      this.entries = this.entries || [];
      return;
    }
    this.entries = answer.entries;
    this.nextCursor = answer.nextCursor;
    this.selected = null;
  }

  search(event) {
    event.preventDefault();
    const values = Object.fromEntries([...new FormData(event.target).entries()].filter(([, v]) => v !== ''));
    // The filters go into the address: the page is re-created with them (and can be bookmarked).
    const hash = `#/audit?${new URLSearchParams(values)}`;
    if (window.location.hash === hash) this.load();
    else navigate(hash);
  }

  next() {
    this.cursors = [...this.cursors, this.currentCursor || null];
    this.currentCursor = this.nextCursor;
    this.load(this.nextCursor);
  }

  previous() {
    const cursors = [...this.cursors];
    this.currentCursor = cursors.pop();
    this.cursors = cursors;
    this.load(this.currentCursor);
  }

  async verify() {
    this.verifying = true;
    this.verification = await this.attempt(() => this.api.get('/api/v1/audit/verify'));
    this.verifying = false;
  }

  async exportAs(format) {
    const name = await this.attempt(() => this.api.download('/api/v1/audit/export',
      { ...this.filterValues(), format }, `atelier-audit.${format}`));
    if (name) this.notice = `Downloaded ${name}.`;
  }

  renderForm() {
    const f = this.filters;
    return html`
      <form class="filters audit-filters" @submit=${this.search} aria-label="Filter the audit trail">
        <div class="field wide"><label for="a-q">Search</label>
          <input id="a-q" name="q" .value=${f.q || ''} spellcheck="false" aria-describedby="a-q-help"
            placeholder="resource_type:workspace action:stop actor:alice">
          <small id="a-q-help" class="hint">Keys: action, actor, from, outcome, request_id, resource_id, resource_type, to;
            values with spaces in "double quotes"; a key repeated means any of them. A filter may be given here or in
            its field below, not both.</small></div>
        ${FILTERS.map((filter) => html`<div class="field"><label for=${`a-${filter.name}`}>${filter.label}</label>
          ${filter.options ? html`<select id=${`a-${filter.name}`} name=${filter.name}>
              ${filter.options.map((o) => html`<option value=${o} ?selected=${(f[filter.name] || '') === o}>${o || 'any'}</option>`)}</select>`
            : html`<input id=${`a-${filter.name}`} name=${filter.name} .value=${f[filter.name] || ''} placeholder=${filter.hint}
              spellcheck="false">`}</div>`)}
        <div class="field"><label for="a-order">Order</label>
          <select id="a-order" name="order"><option value="">newest first</option>
            <option value="asc" ?selected=${f.order === 'asc'}>oldest first</option></select></div>
        <div class="field"><label for="a-limit">Per page</label>
          <select id="a-limit" name="limit">${['25', '50', '100', '500'].map((n) => html`<option ?selected=${(f.limit || '50') === n}>${n}</option>`)}</select></div>
        <div class="actions"><button type="submit" class="primary">Search</button>
          <a class="button secondary" href="#/audit">Clear</a></div>
      </form>`;
  }

  renderVerification() {
    const v = this.verification;
    if (!v) return nothing;
    return html`<div class=${`verification ${v.valid ? 'valid' : 'invalid'}`} role="status" data-valid=${String(v.valid)}>
      ${v.valid ? html`<strong>✔ The chain is intact.</strong> ${v.entries} entries (seq ${v.firstSeq ?? '—'}–${v.lastSeq}) recomputed;
        head <code title=${v.headHash || ''}>${(v.headHash || '').slice(0, 16)}…</code>${v.signedHead ? html`, signed at ${timeCell(v.signedHead.signedAt)}` : nothing}.`
        : html`<strong>✘ The chain is broken at entry ${v.firstBrokenAt}.</strong> ${v.problem || ''}`}
      </div>`;
  }

  renderDetail() {
    const e = this.selected;
    if (!e) return nothing;
    const diff = Object.entries(e.diff || {});
    const details = Object.entries(e.details || {});
    return html`
      <section class="card entry-detail" aria-labelledby="entry-title">
        <div class="page-head"><h2 id="entry-title">Entry ${e.seq}</h2>
          <button type="button" class="secondary small" @click=${() => { this.selected = null; }}>Close</button></div>
        <dl class="facts">${FIELDS.filter((k) => e[k] !== undefined && e[k] !== null).map((k) => html`
          <dt>${k}</dt><dd>${k === 'time' ? timeCell(e.time) : html`<code>${String(e[k])}</code>`}</dd>`)}</dl>
        <h3>Changes</h3>
        ${diff.length ? html`<div class="table-wrap"><table class="diff">
          <thead><tr><th scope="col">Field</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
          <tbody>${diff.map(([path, change]) => html`<tr><td><code>${path}</code></td>
            <td class="old">${change.old ?? html`<em>absent</em>`}</td><td class="new">${change.new ?? html`<em>absent</em>`}</td></tr>`)}</tbody>
        </table></div>` : html`<p class="hint">No fields changed.</p>`}
        ${details.length ? html`<h3>Details</h3><dl class="facts">${details.map(([k, v]) => html`<dt>${k}</dt><dd><code>${v}</code></dd>`)}</dl>` : nothing}
      </section>`;
  }

  render() {
    const entries = this.entries;
    return html`
      <div class="page-head"><h1>Audit trail</h1>
        <div class="row-actions">
          <button type="button" class="primary" @click=${this.verify} ?disabled=${this.verifying}>${this.verifying ? 'Verifying…' : 'Verify chain'}</button>
          <button type="button" class="secondary" @click=${() => this.exportAs('csv')}>Export CSV</button>
          <button type="button" class="secondary" @click=${() => this.exportAs('jsonl')}>Export JSON Lines</button>
        </div></div>
      ${this.messages()}
      ${this.renderVerification()}
      ${this.renderForm()}
      ${this.renderDetail()}
      <div class="table-wrap"><table class="audit">
        <caption class="visually-hidden">Audit entries</caption>
        <thead><tr><th scope="col">Seq</th><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th>
          <th scope="col">Phase</th><th scope="col">Resource</th><th scope="col">Outcome</th><th scope="col">Reason</th>
          <th scope="col">Build</th><th scope="col">Client</th></tr></thead>
        <tbody>
          ${!entries ? emptyRow(10, 'Loading…') : entries.length === 0 ? emptyRow(10, 'No entries match.') : nothing}
          ${(entries || []).map((e) => html`<tr data-seq=${e.seq} data-action=${e.action} data-phase=${e.phase}
              class=${this.selected && this.selected.seq === e.seq ? 'selected' : ''}>
            <td><button type="button" class="link" @click=${() => { this.selected = e; }}
              aria-label="Show entry ${e.seq}">${e.seq}</button></td>
            <td>${timeCell(e.time)}</td><td>${e.actorId} <small>${e.actorType}</small></td><td>${e.action}</td>
            <td>${e.phase}</td><td>${e.resourceType}${e.resourceName ? html` <strong>${e.resourceName}</strong>` : nothing}
              ${e.resourceId ? html`<small title=${e.resourceId}>${e.resourceId.slice(0, 8)}</small>` : nothing}</td>
            <td><span class=${`badge outcome-${e.outcome}`}>${e.outcome}</span></td><td>${e.reason || '—'}</td>
            <td>${e.buildNumber ? `#${e.buildNumber}` : '—'}</td><td>${e.clientIp || ''}</td></tr>`)}
        </tbody></table></div>
      <nav class="pager" aria-label="Pages of the audit trail">
        <button type="button" class="secondary" ?disabled=${this.cursors.length === 0} @click=${this.previous}>Previous page</button>
        <button type="button" class="secondary" ?disabled=${!this.nextCursor} @click=${this.next}>Next page</button>
      </nav>`;
  }
}

customElements.define('audit-page', AuditPage);
