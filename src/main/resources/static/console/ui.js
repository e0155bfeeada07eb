// Shared pieces of the console's pages: the page base class (light DOM, so the page stylesheet applies and tests
// and assistive technology see plain elements), formatting, status badges, the error banner and confirm dialogs.
import { LitElement, html, nothing, render } from 'lit';

export class Page extends LitElement {
  static properties = {
    api: { attribute: false },
    session: { attribute: false },
    params: { attribute: false },
    error: { state: true },
    notice: { state: true },
  };

  createRenderRoot() {
    return this;
  }

  /** A new page takes the focus to its heading, so that keyboard and screen reader users start there. */
  firstUpdated() {
    const heading = this.querySelector('h1');
    if (heading && !heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
    if (heading && (document.activeElement === document.body || document.activeElement?.closest('nav'))) {
      heading.focus({ preventScroll: true });
    }
  }

  /** Runs an API call; its problem `detail` is shown in the page's error banner. */
  async attempt(action, successNotice) {
    this.error = null;
    try {
      const result = await action();
      if (successNotice) this.notice = successNotice;
      return result;
    } catch (e) {
      this.error = e.detail || e.message || String(e);
      this.notice = null;
      return undefined;
    }
  }

  messages() {
    return html`
      <div class="messages">
        ${this.error ? html`<div class="error" role="alert"><strong>Error:</strong> <span class="error-detail">${this.error}</span>
          <button type="button" class="link" @click=${() => { this.error = null; }} aria-label="Dismiss error">×</button></div>` : nothing}
        <div class="notice" role="status" aria-live="polite">${this.notice || ''}</div>
      </div>`;
  }
}

export const STATUSES = ['PENDING', 'STARTING', 'RUNNING', 'STOPPING', 'STOPPED', 'DELETING', 'DELETED', 'FAILED'];

export function statusBadge(status) {
  return html`<span class="badge status-${(status || '').toLowerCase()}" data-status=${status || ''}>${status || '—'}</span>`;
}

export function formatTime(value) {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit',
    minute: '2-digit', second: '2-digit' });
}

export function timeCell(value) {
  return value ? html`<time datetime=${value} title=${value}>${formatTime(value)}</time>` : '—';
}

const ISO_DURATION = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Seconds of an ISO-8601 duration as the engine writes them (PT1H30M, PT0.5S, P1D); null when not one. */
export function durationSeconds(iso) {
  const m = ISO_DURATION.exec(iso || '');
  if (!m) return null;
  const [, d, h, min, s] = m.map((v) => (v === undefined ? 0 : Number(v)));
  return ((d * 24 + h) * 60 + min) * 60 + s;
}

export function humanSeconds(total) {
  if (total === null || total === undefined || Number.isNaN(total)) return '—';
  const negative = total < 0;
  let rest = Math.round(Math.abs(total));
  const days = Math.floor(rest / 86400); rest %= 86400;
  const hours = Math.floor(rest / 3600); rest %= 3600;
  const minutes = Math.floor(rest / 60); const seconds = rest % 60;
  const parts = [];
  if (days) parts.push(`${days} d`);
  if (hours) parts.push(`${hours} h`);
  if (minutes && !days) parts.push(`${minutes} min`);
  if (!days && !hours && (seconds || parts.length === 0)) parts.push(`${seconds} s`);
  return (negative ? '-' : '') + parts.join(' ');
}

export function humanDuration(iso) {
  const seconds = durationSeconds(iso);
  return seconds === null ? (iso || '—') : humanSeconds(seconds);
}

export function money(amount, currency) {
  if (amount === null || amount === undefined) return '—';
  const value = Number(amount);
  if (!currency) return value.toFixed(2);
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency, maximumFractionDigits: 4,
      minimumFractionDigits: 2 }).format(value);
  } catch (e) {
    return `${value.toFixed(2)} ${currency}`;
  }
}

/**
 * Asks before something that cannot be undone, in a modal <dialog> (focus is trapped and Escape cancels, as the
 * browser does for modal dialogs). `extra` is an optional template inside the form (a "force" checkbox); the
 * promise resolves to null when cancelled, else to the form's values.
 */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = false, extra = null }) {
  return new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.className = 'confirm';
    dialog.setAttribute('aria-labelledby', 'confirm-title');
    document.body.append(dialog);
    const close = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    const submit = (event) => {
      event.preventDefault();
      close(Object.fromEntries(new FormData(event.target).entries()));
    };
    render(html`
        <form @submit=${submit}>
          <h2 id="confirm-title">${title}</h2>
          <p>${message}</p>
          ${extra || nothing}
          <div class="actions">
            <button type="button" class="secondary" @click=${() => close(null)}>Cancel</button>
            <button type="submit" class=${danger ? 'danger' : 'primary'} data-confirm>${confirmLabel}</button>
          </div>
        </form>`, dialog);
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); close(null); });
    dialog.showModal();
    dialog.querySelector('[data-confirm]').focus();
  });
}

/** Copies text to the clipboard; falls back to selecting it when the browser does not allow clipboard access. */
export async function copyText(text, fallbackElement) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (e) {
    if (fallbackElement) {
      const range = document.createRange();
      range.selectNodeContents(fallbackElement);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    return false;
  }
}

/** The state of a live stream, for a small indicator next to a page's title. */
export function liveIndicator(state, detail) {
  const label = { live: 'Live', reconnecting: 'Reconnecting…', failed: 'Not live', connecting: 'Connecting…' }[state]
    || 'Connecting…';
  return html`<span class="live live-${state || 'connecting'}" role="status" aria-live="polite"
    title=${detail || ''} data-live=${state || 'connecting'}>${label}</span>`;
}

export function navigate(hash) {
  if (window.location.hash !== hash) window.location.hash = hash;
}

export function emptyRow(columns, text) {
  return html`<tr><td colspan=${columns} class="empty">${text}</td></tr>`;
}
