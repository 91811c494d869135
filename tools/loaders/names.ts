/** Stable ids from names, for sources without catalog ids (eventsim, streaming history). */

/** Lower-case, accents and punctuation stripped, whitespace collapsed: "Beyoncé " → "beyonce". */
export function normalizeName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export function artistIdOf(name: string): string {
  return `name:${normalizeName(name).replace(/ /g, '-')}`.slice(0, 128);
}
