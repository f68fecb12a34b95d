import type { DealKind, DealPhase, DealRole, LessonKind, PartnerType } from '@citydeals/contracts';

/**
 * The demo data: the eleven deals of the Community of Practice meeting of 23 November 2023 (as a public
 * report of that meeting tells them) with the phases, results and lessons the article
 * tells, and one Town Deal. Contacts are invented (names and example.org addresses): the real people the
 * article names are never paired with an invented address.
 */
export interface SeedDeal {
  name: string;
  kind: DealKind;
  summary: string;
  themes: string[];
  signedOn?: string;
  termEndsOn?: string;
  tranche?: number;
  /** The phase the article puts the deal in; reached step by step through the phase machine. */
  phase: DealPhase;
  /** Why the deal is in that phase, as the article tells it; intermediate steps get a generic reason. */
  phaseReason: string;
  people: { name: string; role: DealRole; email: string }[];
  /** The article only says these partners are on board by the meeting, so they joined "by" that day. */
  partners: { name: string; type: PartnerType; joinedOn: string }[];
  results: { title: string; description: string; achievedOn: string | null }[];
  lessons: { kind: LessonKind; text: string }[];
}

export const SEED_NAME = 'demo-2023-11-23';
export const SEED_MEETING_DAY = '2023-11-23';

export const seedDeals: SeedDeal[] = [
  {
    name: 'Fietsen voor Iedereen',
    kind: 'city_deal',
    summary:
      'Steden, ministeries en partners maken fietsen in fietsland Nederland toegankelijk voor meer mensen, ook ' +
      'voor wie nu niet kan of durft te fietsen.',
    themes: ['mobiliteit', 'inclusie'],
    signedOn: '2023-10-05',
    termEndsOn: '2026-10-05',
    phase: 'signed',
    phaseReason: 'Ondertekend tijdens de Dag van de Stad begin oktober 2023; de deal is net opgestart.',
    people: [{ name: 'Sanne Verbeek', role: 'projectleider', email: 'sanne.verbeek@example.org' }],
    partners: [],
    results: [
      {
        title: 'Extra budget voor uitvoeringscapaciteit bij gemeenten',
        description:
          'Bij de opstart bleek dat gemeenten behoefte hebben aan uitvoeringscapaciteit; daarvoor is meteen extra ' +
          'budget gezocht en gevonden.',
        achievedOn: null,
      },
    ],
    lessons: [
      {
        kind: 'success',
        text: 'Het grootste succes van het eerste jaar is dat de City Deal is begonnen.',
      },
      {
        kind: 'setback',
        text: 'Gemeenten hebben behoefte aan uitvoeringscapaciteit: een praktisch opstartprobleem dat je vroeg moet oplossen.',
      },
    ],
  },
  {
    name: 'Dynamische Binnensteden',
    kind: 'city_deal',
    summary: 'Regie op de transformatie van binnensteden, samen met steden, rijk en vastgoedondernemers.',
    themes: ['binnensteden', 'ruimtelijke ontwikkeling'],
    signedOn: '2023-06-14',
    phase: 'building',
    phaseReason:
      'Ondertekend op 14 juni 2023; de coalitie wordt opgebouwd en het netwerk en commitment groeien.',
    people: [{ name: 'Daan Hoekstra', role: 'projectleider', email: 'daan.hoekstra@example.org' }],
    partners: [],
    results: [],
    lessons: [
      {
        kind: 'setback',
        text:
          'Mensen die een andere uitdaging aangaan hadden soms een voortrekkersrol die in de fase van opbouwen van ' +
          'de coalitie moeilijk gemist kan worden.',
      },
      {
        kind: 'success',
        text: 'Het netwerk en het commitment groeien; ook vastgoedondernemers tonen actieve interesse.',
      },
    ],
  },
  {
    name: 'Energieke Wijken, Duurzaam en Sociaal',
    kind: 'city_deal',
    summary:
      'Impact voor bewoners in de wijkaanpak door doorbraken in wet- en regelgeving voor verduurzaming.',
    themes: ['energie', 'wijkaanpak'],
    phase: 'delivering',
    phaseReason:
      'De deal boekt resultaten: een wijziging in de ISDE-regeling op voorspraak van de City Deal.',
    people: [{ name: 'Lotte Brouwer', role: 'projectleider', email: 'lotte.brouwer@example.org' }],
    partners: [],
    results: [
      {
        title: 'Gemeenten mogen de ISDE-subsidie aanvragen namens bewoners',
        description:
          'Per 1 januari mogen gemeenten op voorspraak van de City Deal de Investeringssubsidie duurzame energie en ' +
          'energiebesparing (ISDE) aanvragen en zo bewoners financieel ontzorgen.',
        achievedOn: '2024-01-01',
      },
    ],
    lessons: [
      {
        kind: 'success',
        text: 'Doorbraken in wet- en regelgeving zijn een sterk punt van de City Deal-aanpak: zo ontstaat impact voor bewoners.',
      },
    ],
  },
  {
    name: 'Lokale Weerbaarheid Cybercrime',
    kind: 'city_deal',
    summary:
      'Gemeenten, ministeries, banken en politie maken de lokale samenleving weerbaarder tegen cybercrime; na ' +
      'implementeren en innoveren staat de derde tranche in het teken van borgen.',
    themes: ['veiligheid', 'digitalisering'],
    tranche: 3,
    phase: 'securing',
    phaseReason:
      'Er is bestuurlijk draagvlak voor de derde tranche: na implementeren en innoveren nu borgen.',
    people: [{ name: 'Mehmet Yildiz', role: 'projectleider', email: 'mehmet.yildiz@example.org' }],
    partners: [
      { name: 'Ministerie van Justitie en Veiligheid', type: 'ministry', joinedOn: SEED_MEETING_DAY },
      { name: 'Politie', type: 'police', joinedOn: SEED_MEETING_DAY },
      { name: 'Deelnemende banken', type: 'bank', joinedOn: SEED_MEETING_DAY },
    ],
    results: [
      {
        title: 'Bestuurlijk draagvlak voor de derde tranche: borgen',
        description: 'Alle relevante partijen, ministeries, banken, politie enzovoort, zijn aangehaakt.',
        achievedOn: null,
      },
    ],
    lessons: [
      {
        kind: 'setback',
        text: 'Openhartig gedeeld: er zijn fouten gemaakt. De uitdaging is nu de kennis en tools bij natuurlijke partners te beleggen.',
      },
    ],
  },
  {
    name: 'Gezonde en Duurzame Voedselomgeving',
    kind: 'city_deal',
    summary: 'Steden en rijk stimuleren samen gezond en duurzaam voedsel.',
    themes: ['gezondheid', 'voedsel'],
    phase: 'delivering',
    phaseReason: 'Na actief agenderen in Den Haag is er een een-tweetje tussen rijk en steden ontstaan.',
    people: [{ name: 'Fenna Kuipers', role: 'programmamanager', email: 'fenna.kuipers@example.org' }],
    partners: [],
    results: [],
    lessons: [
      {
        kind: 'success',
        text:
          'Steden liepen op het rijk vooruit; na actief agenderen is er een mooi een-tweetje. Lopen de steden ' +
          'bij hun experimenten tegen grenzen aan, dan is dat een extra argument voor landelijke oplossingen.',
      },
    ],
  },
  {
    name: 'Slimme Stad',
    kind: 'city_deal',
    summary: 'Een toolbox voor democratisch en slim omgaan met digitalisering in steden.',
    themes: ['digitalisering'],
    phase: 'securing',
    phaseReason:
      'De toolbox heeft een thuis gevonden bij Dutch Metropolitan Innovation (DMI): borgen en opschalen.',
    people: [{ name: 'Ruben Maas', role: 'projectleider', email: 'ruben.maas@example.org' }],
    partners: [{ name: 'Dutch Metropolitan Innovation (DMI)', type: 'other', joinedOn: SEED_MEETING_DAY }],
    results: [
      {
        title: 'Toolbox ondergebracht bij Dutch Metropolitan Innovation',
        description:
          'De toolbox voor democratisch en slim omgaan met digitalisering is aangehaakt bij DMI; samen wordt nu ' +
          'gewerkt aan standaardisatie, een stelsel van afspraken en een level playing field.',
        achievedOn: null,
      },
    ],
    lessons: [],
  },
  {
    name: 'Slim Maatwerk',
    kind: 'city_deal',
    summary: 'Slim maatwerk in het sociale domein.',
    themes: ['sociaal domein'],
    phase: 'delivering',
    phaseReason: 'De deal werkt aan resultaten in het sociale domein.',
    people: [{ name: 'Ruben Maas', role: 'projectleider', email: 'ruben.maas@example.org' }],
    partners: [],
    results: [],
    lessons: [
      {
        kind: 'setback',
        text: 'De uitdaging is om niet te ver op de troepen vooruit te lopen: te snel gaan in de ogen van partners.',
      },
    ],
  },
  {
    name: 'Kennis Maken',
    kind: 'city_deal',
    summary:
      'Grootschalig organiseren dat onderzoekers, docenten en studenten worden ingezet om maatschappelijke ' +
      'opgaven in de stad aan te pakken.',
    themes: ['kennis', 'onderwijs'],
    phase: 'delivering',
    phaseReason: 'Na 6 jaar komt de grootschaligheid in zicht.',
    people: [
      { name: 'Noor Smit', role: 'projectleider', email: 'noor.smit@example.org' },
      { name: 'Thijs van Dam', role: 'projectleider', email: 'thijs.vandam@example.org' },
    ],
    partners: [],
    results: [
      {
        title: 'Fonds van 5 miljoen euro, overtekend',
        description:
          'Op de pot van 5 miljoen voor projecten kwamen zo veel goede voorstellen dat er geld bij is gezocht en gevonden.',
        achievedOn: null,
      },
    ],
    lessons: [
      {
        kind: 'success',
        text: 'Een groot klein succes: een betrokken leerling vertelde enthousiast dat hij kon bijdragen aan de stad waar hij woont.',
      },
    ],
  },
  {
    name: 'Ruimte voor Lopen',
    kind: 'city_deal',
    summary: 'Meer ruimte voor lopen in de stad, afgesloten en geborgd met een nationaal masterplan.',
    themes: ['mobiliteit', 'gezondheid'],
    phase: 'delivering',
    phaseReason: 'De partners werken aan een breed gedragen nationaal masterplan als afsluiting en borging.',
    people: [{ name: 'Marloes de Wit', role: 'projectsecretaris', email: 'marloes.dewit@example.org' }],
    partners: [],
    results: [],
    lessons: [
      {
        kind: 'success',
        text: 'Een breed gedragen nationaal masterplan maken met de partners is zowel de afsluiting als de borging van de deal.',
      },
    ],
  },
  {
    name: 'Openbare Ruimte',
    kind: 'city_deal',
    summary: 'Een integrale aanpak van de openbare ruimte.',
    themes: ['openbare ruimte'],
    phase: 'securing',
    phaseReason: 'De deal is in de afrondende fase; er is nog tijd om te borgen.',
    people: [{ name: 'Pieter Vermeulen', role: 'projectleider', email: 'pieter.vermeulen@example.org' }],
    partners: [],
    results: [],
    lessons: [
      {
        kind: 'setback',
        text: 'De destijds toegezegde looptijd van 3 jaar is aan de korte kant.',
      },
      {
        kind: 'success',
        text: 'Borgen kan onder andere door de integrale-aanpaklessen van de City Deal in lokale programma’s op te nemen.',
      },
    ],
  },
  {
    name: 'Impact Ondernemen',
    kind: 'city_deal',
    summary:
      'Een ecosysteem voor impactondernemen met 100 partners en een groeiende gereedschapskist voor ondernemers, ' +
      'overheden en financiers.',
    themes: ['economie', 'impactondernemen'],
    termEndsOn: '2024-03-31',
    phase: 'delivering',
    phaseReason: 'Met 100 partners begint het gewenste ecosysteem voor impactondernemen vorm te krijgen.',
    people: [
      { name: 'Yara Bos', role: 'dealmaker', email: 'yara.bos@example.org' },
      { name: 'Sem Willems', role: 'communicatieadviseur', email: 'sem.willems@example.org' },
    ],
    partners: [],
    results: [
      {
        title: 'Gereedschapskist voor ondernemers, overheden en financiers',
        description: 'Een groeiende gereedschapskist; met 100 partners krijgt het ecosysteem vorm.',
        achievedOn: null,
      },
    ],
    lessons: [
      {
        kind: 'setback',
        text: 'Drie jaar is kort: de deal streeft naar een verlenging van twee jaar.',
      },
    ],
  },
  {
    name: 'Town Deal Vitale Kernen',
    kind: 'town_deal',
    summary:
      'Fictief voorbeeld van een Town Deal: de City Deal-methode toegepast op niet-stedelijke gemeenten (de ' +
      'eerste Town Deal startte in 2023).',
    themes: ['leefbaarheid', 'kleine kernen'],
    phase: 'building',
    phaseReason: 'De Town Deal is in 2023 gestart; de coalitie wordt opgebouwd.',
    people: [{ name: 'Evi Mulder', role: 'projectleider', email: 'evi.mulder@example.org' }],
    partners: [],
    results: [],
    lessons: [],
  },
];

/** Cross-links (dwarsverbanden) found at the meeting, by deal name. */
export const seedLinks: { from: string; to: string; note: string }[] = [
  {
    from: 'Slimme Stad',
    to: 'Dynamische Binnensteden',
    note: 'De toolbox van Slimme Stad helpt bij datagedreven regie op de transformatie van binnensteden.',
  },
  {
    from: 'Slimme Stad',
    to: 'Slim Maatwerk',
    note: 'Dezelfde projectleider; digitalisering en het sociale domein raken elkaar.',
  },
];
