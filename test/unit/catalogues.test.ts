import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { CATALOGUES } from '../../src/i18n/catalogues.js';
import { en } from '../../src/i18n/en.js';
import { UI_LANGUAGES } from '../../src/i18n/languages.js';

/** The values and tags a message uses, and the plural forms it gives each count. */
function shapeOf(elements: MessageFormatElement[], into = { values: new Set<string>(), tags: new Set<string>() }) {
  for (const element of elements) {
    if ('value' in element && typeof element.value === 'string' && element.type !== 0 && element.type !== 8) into.values.add(element.value);
    if (element.type === 8) {
      into.tags.add(element.value);
      shapeOf(element.children, into);
    }
    if ('options' in element) for (const option of Object.values(element.options)) shapeOf(option.value, into);
  }
  return into;
}

const sorted = (set: Set<string>) => [...set].sort();

describe('the message catalogues', () => {
  const keys = Object.keys(en).sort();

  for (const language of UI_LANGUAGES) {
    const messages = CATALOGUES[language].messages as Record<string, string>;

    it(`${language} has every key of the English catalogue and no other`, () => {
      assert.deepEqual(Object.keys(messages).sort(), keys);
    });

    it(`${language}: every message parses, is not empty and uses the values and tags of its English original`, () => {
      for (const key of keys) {
        const message = messages[key]!;
        assert.ok(message.trim().length > 0, `${language} ${key} is empty`);
        assert.notEqual(message, key, `${language} ${key} is its own key`);
        let shape;
        try {
          shape = shapeOf(parse(message));
        } catch (error) {
          assert.fail(`${language} ${key} does not parse: ${(error as Error).message}`);
        }
        const original = shapeOf(parse((en as Record<string, string>)[key]!));
        assert.deepEqual(sorted(shape.values), sorted(original.values), `${language} ${key}: values`);
        assert.deepEqual(sorted(shape.tags), sorted(original.tags), `${language} ${key}: tags`);
      }
    });
  }

  it('translates: most Czech and German messages differ from the English', () => {
    for (const language of ['cs', 'de'] as const) {
      const messages = CATALOGUES[language].messages as Record<string, string>;
      const same = keys.filter((key) => messages[key] === (en as Record<string, string>)[key]);
      // Names and technical words may stay as they are (App ID, "{title} · Keygate"), not sentences.
      assert.ok(same.length < keys.length / 20, `${language}: ${same.length} messages are still English: ${same.slice(0, 20).join(', ')}`);
    }
  });
});
