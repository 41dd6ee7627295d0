/**
 * The sensitive-word filter (ONAIR_CHAT_WORDS): case-insensitive substring matches, either masked
 * with asterisks (one per character) or reported so the post is refused.
 */
export class WordFilter {
  private readonly pattern: RegExp | null;

  constructor(words: readonly string[]) {
    const parts = [...new Set(words.map((w) => w.trim().toLowerCase()).filter(Boolean))]
      .sort((a, b) => b.length - a.length)
      .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.pattern = parts.length > 0 ? new RegExp(parts.join('|'), 'giu') : null;
  }

  matches(text: string): boolean {
    if (!this.pattern) return false;
    this.pattern.lastIndex = 0;
    return this.pattern.test(text);
  }

  mask(text: string): string {
    if (!this.pattern) return text;
    return text.replace(this.pattern, (m) => '*'.repeat([...m].length));
  }
}
