import t from 'tap';
import { countFields, findPersonalData } from '../src/personal-data.ts';

t.test(
  'finds a needle in any field: nested, in arrays, in keys, in JSON held as text, any case',
  async (t) => {
    const value = {
      a: { b: [{ c: 'Hallo Marieke de Vries' }] },
      'marieke@example.org': 1,
      nested: JSON.stringify({ deep: { email: 'MARIEKE@example.org' } }),
      id: 12345,
    };
    t.same(findPersonalData(value, ['marieke de vries', 'marieke@example.org', '2345']), [
      { path: '$.a.b[0].c', needle: 'marieke de vries' },
      { path: '$.marieke@example.org', needle: 'marieke@example.org' },
      { path: '$.nested', needle: 'marieke@example.org' },
      { path: '$.nested(json).deep.email', needle: 'marieke@example.org' },
      { path: '$.id', needle: '2345' },
    ]);
    t.same(findPersonalData(value, ['someone else', '']), [], 'nothing when no needle occurs');
    t.equal(countFields(value), 4);
  },
);
