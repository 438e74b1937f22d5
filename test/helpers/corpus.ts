/** A varied text corpus for token-count checks: unicode, code, whitespace runs, special tokens. */
export const VARIED_TEXTS: readonly string[] = [
  'The quick brown fox jumps over the lazy dog.',
  'Zürich, São Paulo, Kraków, Île-de-France and Ærøskøbing — naïve café façade.',
  '北京是中国的首都。東京は日本の首都です。서울은 한국의 수도입니다.',
  'مرحبا بالعالم. שלום עולם. Привет, мир! Γειά σου κόσμε!',
  'Emoji: 🎉🚀👩‍👩‍👧‍👦🇩🇪 and ZWJ sequences, 1️⃣ keycaps.',
  'function f(x) {\n\treturn x.map((y) => y * 2).filter(Boolean);\n}\n',
  'def main():\n    for i in range(10):\n        print(f"{i:>4}")\n',
  '    lots   of     spaces\n\n\n\n\t\t\ttabs and\r\nCRLF   \n',
  ' '.repeat(300) + 'x' + '\n'.repeat(50),
  'Special tokens as text: <|endoftext|> <|im_start|>user<|im_end|> <|endofprompt|>',
  'Numbers 1234567890 3.14159 -42 1e10 0xDEADBEEF 12,345,678.90',
  'URLs https://example.com/path?q=a&b=c#frag and emails someone@example.org',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  '{"json": [1, 2, {"nested": true}], "s": "quote \\" inside"}',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝒎𝒂𝒕𝒉 𝟙𝟚𝟛 and combining a\u0301e\u0301i\u0301',
  '',
];
