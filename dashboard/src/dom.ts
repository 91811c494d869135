/** A tiny element builder: text goes through textContent, so streamed data can never inject markup. */
type Child = Node | string | number | null | undefined | false;

export function h(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children)
    if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
}

export const time = (ms: number): string => new Date(ms).toLocaleTimeString([], { hour12: false });

/** Replaces a select's options after the first ("all …"), keeping the current choice. */
export function setOptions(select: HTMLSelectElement, values: { value: string; label: string }[]): void {
  const current = select.value;
  const known = [...select.options].slice(1).map((o) => o.value);
  if (known.join('\n') === values.map((v) => v.value).join('\n')) return;
  while (select.options.length > 1) select.remove(1);
  for (const v of values) select.add(new Option(v.label, v.value));
  select.value = current;
}
