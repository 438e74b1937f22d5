/**
 * Small hand-written word lists (generic class words, never named entities)
 * that complement the gazetteers read from compromise's lexicon. They encode
 * the contextual cues the classifier relies on: titles before people, head
 * nouns of organisation and place names, lowercase particles inside names,
 * and the nouns/prepositions that announce an organisation or a place.
 * All entries are lower case.
 */

function set(words: string): ReadonlySet<string> {
  return new Set(words.trim().split(/\s+/));
}

/**
 * Titles and honorifics that precede a person's name ("President Emmanuel
 * Macron", "Dr. Ana Souza"). Trailing periods are stripped before lookup.
 * Compromise's Honorific and Actor lists are merged in at startup.
 */
export const TITLE_WORDS = set(`
  president vice-president president-elect chancellor minister premier secretary governor mayor
  senator congressman congresswoman representative judge justice prosecutor attorney
  coach captain skipper chairman chairwoman chair ceo cfo cto founder
  colonel general major sergeant lieutenant admiral commander brigadier marshal corporal
  cardinal pope king queen prince princess sheikh sheikha emir sultan lord lady sir dame
  dr mr mrs ms miss mx prof professor rev reverend bishop archbishop rabbi imam ayatollah
  sen rep gov gen col capt lt sgt cmdr adm supt insp det
  ambassador envoy spokesman spokeswoman spokesperson commissioner chief deputy
  goalkeeper striker midfielder defender forward manager director inspector constable
  officer detective superintendent councillor councilor alderman sheriff mp mep
  dean rector provost chancellor-elect
`);

/** Capitalised words that qualify a title and are dropped with it ("Finance Minister"). */
export const TITLE_MODIFIERS = set(`
  prime first deputy vice acting former interim chief foreign finance defence defense
  interior home economy economic trade health education energy climate environment
  justice labour labor transport culture agriculture industry treasury state federal
  civil protection security public works national regional provincial junior senior
  general executive managing assistant associate lead head grand supreme high
  attorney solicitor secretary minister director
`);

/**
 * Head nouns that make a capitalised phrase an organisation when they end it
 * ("Deutsche Bank", "Karolinska Institute") or open it before "of/for"
 * ("University of Cambridge"). Compromise's orgWords list is merged in.
 */
export const ORG_WORDS = set(`
  inc incorporated corp corporation co company companies ltd limited llc llp plc ag sa nv bv gmbh
  spa srl ab asa oyj kk pty pte bhd tbk
  group holdings holding partners capital securities bank banco banca banque caixa bancorp
  fund funds trust foundation institute institution university universidad universite
  universitat college school academy conservatorium conservatory conservatoire
  ministry ministries department office agency authority commission committee council
  board bureau directorate service services administration parliament assembly congress
  senate court tribunal cabinet government secretariat
  party union federation confederation association alliance league coalition movement front
  network society organization organisation organisations organizations forces army navy
  police guard command brigade corps
  centre center centres centers hospital clinic museum library laboratory laboratories labs observatory
  airlines airways motors motor electronics steel industries technologies technology
  systems pharmaceuticals pharma energies petroleum oil gas mining resources
  telecom telecommunications media broadcasting press news times post herald journal gazette
  tribune chronicle review magazine records studios pictures entertainment games
  insurance assurance financial investments investment ventures exchange
  railways railway rail logistics shipping construction engineering
  club fc cf afc racing rovers athletic
  programme program initiative project
  grupo gruppe groupe compagnie societe sociedad empresa
`);

/** Words that open an organisation name: "Grupo Bimbo", "Banco de Mexico". */
export const ORG_PREFIX_WORDS = set(`
  grupo gruppe groupe banco banca banque caixa caisse compagnie societe sociedad empresa
  universidad universite universitat university college institute bank ministry department
  office board committee council commission academy air
`);

/**
 * Head nouns that make a capitalised phrase a place ("Atacama Desert",
 * "Gulf of Mexico"). Compromise's placeWords list is merged in, minus the
 * building words it shares with organisations.
 */
export const PLACE_WORDS = set(`
  river rivers sea ocean lake lakes bay gulf strait straits channel coast island islands isle
  peninsula mountain mountains mount hills hill valley delta desert plain plains plateau
  basin canyon falls forest glacier volcano reef archipelago cape
  province prefecture region county district state states territory oblast governorate
  municipality borough city town village square avenue street road boulevard highway
  bridge airport stadium park ghat quarter republic kingdom
`);

/** Words that open a place name: "Mount Kenya", "Lake Victoria", "Port Talbot". */
export const PLACE_PREFIX_WORDS = set(`
  mount mt lake port fort cape isle gulf bay strait sea saint st san santa sao
  north south east west northern southern eastern western central upper lower greater inner outer
  new
`);

/** Lowercase particles allowed inside a name between capitalised words. */
export const NAME_PARTICLES = set(`
  de da do dos das del della delle di du des van von der den ter ten bin ibn bint al el la le y e
  zu af av
`);

/** Lowercase words that join two capitalised parts of one organisation or place name. */
export const NAME_CONNECTORS = set(`of for and & the to`);

/** Connectors at which a phrase is split when its head gives no reason to keep it whole. */
export const SPLIT_CONNECTORS = set(`of for and & the to`);

/**
 * Lowercase nouns that, right before a capitalised phrase, announce an
 * organisation ("the carmaker Toyota", "the union IG Metall").
 */
export const ORG_CONTEXT_WORDS = set(`
  company companies firm firms group groups conglomerate corporation business businesses maker
  makers carmaker carmakers automaker planemaker drugmaker chipmaker retailer retailers
  bank banks lender lenders insurer insurers operator operators airline airlines carrier
  start-up startup start-ups startups subsidiary unit brand label publisher broadcaster
  network newspaper agency agencies regulator regulators union unions charity charities
  club clubs team teams party parties organisation organization organisations organizations
  institute university foundation fund funds investor investors rival rivals partner partners
  supplier suppliers manufacturer manufacturers producer producers developer developers
  giant giants outlet platform exchange consortium venture alliance coalition militia
  think-tank tank
`);

/** Lowercase words that, right before a capitalised phrase, announce a place. */
export const PLACE_CONTEXT_WORDS = set(`
  in near outside inside across throughout around towards toward via above below beyond along off
`);

/** People-nouns before "at X" that make X an employer ("analysts at Jefferies"). */
export const STAFF_WORDS = set(`
  staff officials employees workers students researchers scientists engineers executives economists
  analysts doctors nurses teachers professor professors lecturer researcher scientist engineer analyst
  economist executive official employee worker student
`);

/** Lowercase nouns "X of <Place>" / "<Place> province" around places. */
export const PLACE_NOUNS_BEFORE_OF = set(`
  city town village capital province region state county district island port suburb
  outskirts centre center streets people residents mayor governor
`);
export const PLACE_NOUNS_AFTER = set(`
  province provinces provincial region regions regional state states county counties district districts
  city cities town towns village villages prefecture area river coast border valley island islands
  peninsula municipality governorate oblast crossing corridor airport
`);

/** "visit to X", "flights to X": "to" then announces a place. */
export const MOVEMENT_WORDS = set(`
  visit visits visited visiting trip trips travel travelled traveled travelling traveling flew flown fly
  flying moved move moving returned return returning arrived arrive arriving went go going came come coming
  fled flee sent deployed journey flights flight route routes exported exports export link links linking
  road railway bound headed heading relocate relocated relocation
`);

/** Nouns after "a/the ..." in an apposition that say what the phrase before it is. */
export const PLACE_APPOSITION_WORDS = set(`
  town city village capital country province region state island port district suburb
  neighbourhood neighborhood county municipality area
`);

/** Verbs/nouns after a phrase that mark a person: "X, 34," "X, who". */
export const PERSON_FOLLOWERS = set(`who whose himself herself`);

/** Month and weekday names: capitalised but never entity names on their own. */
export const CALENDAR_WORDS = set(`
  january february march april may june july august september october november december
  jan feb mar apr jun jul aug sep sept oct nov dec
  monday tuesday wednesday thursday friday saturday sunday
  mon tue tues wed thu thur thurs fri sat sun
`);

/** Function words that are stripped from the edges of a capitalised phrase. */
export const EDGE_STOPWORDS = set(`
  the a an this that these those his her its their our your my some any every each no
  he she it they we you i me him them us who what which when where why how
  and or but nor so yet if then than as at by in on of for to from with without into onto
  after before during since until while although though because also not
`);

/**
 * Macro-regions and common country short forms that compromise's lexicon
 * lacks. Generic geography, kept short on purpose.
 */
export const EXTRA_PLACES = [
  'middle east',
  'near east',
  'far east',
  'latin america',
  'south america',
  'north america',
  'central america',
  'central asia',
  'south asia',
  'southeast asia',
  'east asia',
  'sub saharan africa',
  'caribbean',
  'balkans',
  'baltics',
  'scandinavia',
  'sahel',
  'maghreb',
  'pacific',
  'atlantic',
  'arctic',
  'antarctic',
  'mediterranean',
  'earth',
  'moon',
  'britain',
  'great britain',
  'us',
  'usa',
  'uk',
  'uae',
  'drc',
  'gaza',
  'west bank',
  'crimea',
  'donbas',
  'kashmir',
  'tibet',
  'xinjiang',
];

/** Institutions that are organisations even as a single capitalised common word. */
export const INSTITUTION_SINGLES = set(`
  congress parliament senate kremlin pentagon bundestag knesset duma politburo interpol europol
  nato opec
`);
