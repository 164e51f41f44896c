"""Hand-curated tables for gen_regions.py (CURATED: written by hand, not
taken from a data package). Everything here is reviewed by people; keep the
tables small and documented. See src/regions/SOURCES.md for the policy.
"""

# Russian demonyms: ISO alpha-2 -> (masculine adjective, noun singular,
# noun plural). "-" = no established form. The generator declines the
# adjective (-ский/-кий/-ый/-ий) into all its case/gender/number forms.
RU_DEMONYMS = """
AF афганский афганец афганцы
AL албанский албанец албанцы
DZ алжирский алжирец алжирцы
AD андоррский андоррец андоррцы
AO ангольский анголец анголезцы
AG антигуанский - -
AR аргентинский аргентинец аргентинцы
AM армянский армянин армяне
AU австралийский австралиец австралийцы
AT австрийский австриец австрийцы
AZ азербайджанский азербайджанец азербайджанцы
BS багамский багамец багамцы
BH бахрейнский бахрейнец бахрейнцы
BD бангладешский бангладешец бангладешцы
BB барбадосский барбадосец барбадосцы
BY белорусский белорус белорусы
BE бельгийский бельгиец бельгийцы
BZ белизский белизец белизцы
BJ бенинский бенинец бенинцы
BT бутанский бутанец бутанцы
BO боливийский боливиец боливийцы
BA боснийский босниец боснийцы
BW ботсванский ботсванец ботсванцы
BR бразильский бразилец бразильцы
BN брунейский брунеец брунейцы
BG болгарский болгарин болгары
BF буркинийский буркиниец буркинийцы
BI бурундийский бурундиец бурундийцы
KH камбоджийский камбоджиец камбоджийцы
CM камерунский камерунец камерунцы
CA канадский канадец канадцы
CV кабовердианский кабовердианец кабовердианцы
CF центральноафриканский - -
TD чадский чадец чадцы
CL чилийский чилиец чилийцы
CN китайский китаец китайцы
CO колумбийский колумбиец колумбийцы
KM коморский коморец коморцы
CG конголезский конголезец конголезцы
CD конголезский конголезец конголезцы
CR костариканский костариканец костариканцы
CI ивуарийский ивуариец ивуарийцы
HR хорватский хорват хорваты
CU кубинский кубинец кубинцы
CY кипрский киприот киприоты
CZ чешский чех чехи
DK датский датчанин датчане
DJ джибутийский джибутиец джибутийцы
DM доминикский - -
DO доминиканский доминиканец доминиканцы
EC эквадорский эквадорец эквадорцы
EG египетский египтянин египтяне
SV сальвадорский сальвадорец сальвадорцы
GQ экваториальногвинейский - -
ER эритрейский эритреец эритрейцы
EE эстонский эстонец эстонцы
SZ свазилендский свази свази
ET эфиопский эфиоп эфиопы
FJ фиджийский фиджиец фиджийцы
FI финский финн финны
FR французский француз французы
GA габонский габонец габонцы
GM гамбийский гамбиец гамбийцы
GE грузинский грузин грузины
DE немецкий немец немцы
GH ганский ганец ганцы
GR греческий грек греки
GD гренадский гренадец гренадцы
GT гватемальский гватемалец гватемальцы
GN гвинейский гвинеец гвинейцы
GW гвинейский - -
GY гайанский гайанец гайанцы
HT гаитянский гаитянин гаитяне
HN гондурасский гондурасец гондурасцы
HU венгерский венгр венгры
IS исландский исландец исландцы
IN индийский индиец индийцы
ID индонезийский индонезиец индонезийцы
IR иранский иранец иранцы
IQ иракский иракец иракцы
IE ирландский ирландец ирландцы
IL израильский израильтянин израильтяне
IT итальянский итальянец итальянцы
JM ямайский ямаец ямайцы
JP японский японец японцы
JO иорданский иорданец иорданцы
KZ казахстанский казахстанец казахстанцы
KE кенийский кениец кенийцы
KI кирибатский - -
KP северокорейский северокореец северокорейцы
KR южнокорейский южнокореец южнокорейцы
KW кувейтский кувейтец кувейтцы
KG киргизский киргиз киргизы
LA лаосский лаосец лаосцы
LV латвийский латыш латыши
LB ливанский ливанец ливанцы
LS лесотский - -
LR либерийский либериец либерийцы
LY ливийский ливиец ливийцы
LI лихтенштейнский лихтенштейнец лихтенштейнцы
LT литовский литовец литовцы
LU люксембургский люксембуржец люксембуржцы
MG малагасийский малагасиец малагасийцы
MW малавийский малавиец малавийцы
MY малайзийский малайзиец малайзийцы
MV мальдивский мальдивец мальдивцы
ML малийский малиец малийцы
MT мальтийский мальтиец мальтийцы
MH маршалловский - -
MR мавританский мавританец мавританцы
MU маврикийский маврикиец маврикийцы
MX мексиканский мексиканец мексиканцы
FM микронезийский микронезиец микронезийцы
MD молдавский молдаванин молдаване
MC монакский монегаск монегаски
MN монгольский монгол монголы
ME черногорский черногорец черногорцы
MA марокканский марокканец марокканцы
MZ мозамбикский мозамбикец мозамбикцы
MM мьянманский мьянманец мьянманцы
NA намибийский намибиец намибийцы
NR науруанский - -
NP непальский непалец непальцы
NL нидерландский нидерландец нидерландцы
NZ новозеландский новозеландец новозеландцы
NI никарагуанский никарагуанец никарагуанцы
NE нигерский нигерец нигерцы
NG нигерийский нигериец нигерийцы
MK македонский македонец македонцы
NO норвежский норвежец норвежцы
OM оманский оманец оманцы
PK пакистанский пакистанец пакистанцы
PW палауский - -
PS палестинский палестинец палестинцы
PA панамский панамец панамцы
PG папуанский папуас папуасы
PY парагвайский парагваец парагвайцы
PE перуанский перуанец перуанцы
PH филиппинский филиппинец филиппинцы
PL польский поляк поляки
PT португальский португалец португальцы
QA катарский катарец катарцы
RO румынский румын румыны
RU российский россиянин россияне
RW руандийский руандиец руандийцы
KN - - -
LC сент-люсийский - -
VC - - -
WS самоанский самоанец самоанцы
SM сан-маринский - -
ST - - -
SA саудовский саудовец саудовцы
SN сенегальский сенегалец сенегальцы
RS сербский серб сербы
SC сейшельский сейшелец сейшельцы
SL сьерра-леонский - -
SG сингапурский сингапурец сингапурцы
SK словацкий словак словаки
SI словенский словенец словенцы
SB соломонский - -
SO сомалийский сомалиец сомалийцы
ZA южноафриканский южноафриканец южноафриканцы
SS южносуданский южносуданец южносуданцы
ES испанский испанец испанцы
LK шри-ланкийский шриланкиец шриланкийцы
SD суданский суданец суданцы
SR суринамский суринамец суринамцы
SE шведский швед шведы
CH швейцарский швейцарец швейцарцы
SY сирийский сириец сирийцы
TW тайваньский тайванец тайваньцы
TJ таджикский таджик таджики
TZ танзанийский танзаниец танзанийцы
TH таиландский таец тайцы
TL восточнотиморский - -
TG тоголезский тоголезец тоголезцы
TO тонганский - -
TT тринидадский - -
TN тунисский тунисец тунисцы
TR турецкий турок турки
TM туркменский туркмен туркмены
TV тувалуанский - -
UG угандийский угандиец угандийцы
UA украинский украинец украинцы
AE эмиратский эмиратец эмиратцы
GB британский британец британцы
US американский американец американцы
UY уругвайский уругваец уругвайцы
UZ узбекский узбек узбеки
VU вануатский - -
VA ватиканский - -
VE венесуэльский венесуэлец венесуэльцы
VN вьетнамский вьетнамец вьетнамцы
YE йеменский йеменец йеменцы
ZM замбийский замбиец замбийцы
ZW зимбабвийский зимбабвиец зимбабвийцы
HK гонконгский гонконгец гонконгцы
MO - - -
PR пуэрто-риканский пуэрториканец пуэрториканцы
GL гренландский гренландец гренландцы
EH западносахарский - -
CW - - -
BM бермудский - -
FO фарерский фаререц фарерцы
"""

# Extra English names, beyond ISO 3166 (pycountry), CLDR (babel) and
# countryinfo's altSpellings. Prefix "~" = Weak, "=" = exact case.
EN_EXTRA = {
    "US": ["=US", "=U.S.", "=USA", "=U.S.A.", "United States of America", "~America",
           "Americans", "Washington, D.C."],
    "GB": ["=UK", "=U.K.", "Britain", "Great Britain", "Britons", "England", "English",
           "Scotland", "Scottish", "=Wales", "Welsh", "Northern Ireland"],
    "AE": ["=UAE", "Emirates"],
    "CD": ["=DRC", "DR Congo", "Democratic Republic of the Congo", "Congo-Kinshasa", "~Congo"],
    "CG": ["Republic of the Congo", "Congo-Brazzaville", "~Congo"],
    "CN": ["=PRC", "Mainland China"],
    "KP": ["=DPRK", "North Korea", "~Korea"],
    "KR": ["South Korea", "Republic of Korea", "~Korea", "South Koreans"],
    "RU": ["Russia", "Russians"],
    "TR": ["Turkey", "Türkiye", "Turks"],
    "CZ": ["Czech Republic", "Czechia", "Czechs"],
    "CI": ["Ivory Coast", "Côte d'Ivoire"],
    "SA": ["=KSA", "Saudi", "Saudis"],
    "NZ": ["=NZ"],
    "BA": ["=BiH", "Bosnia"],
    "NL": ["Holland"],
    "MM": ["Burma"],
    "SZ": ["Swaziland"],
    "TL": ["East Timor"],
    "CV": ["Cape Verde"],
    "VA": ["Vatican", "Holy See", "Vatican City"],
    "MK": ["North Macedonia", "~Macedonia"],
    "PS": ["Palestine", "Palestinians", "Gaza", "Gaza Strip", "West Bank"],
    "NG": ["Niger Delta"],
    "IL": ["Israelis"],
    "UA": ["Ukrainians"],
    "KZ": ["Kazakh"],
    "KG": ["Kyrgyz"],
    "FR": ["=French"],
    "GM": ["The Gambia"],
    "LA": ["Laos"],
    "SY": ["Syria"],
    "MD": ["Moldova"],
    "VN": ["Vietnam"],
    "BN": ["Brunei"],
    "FK": ["Falklands", "Falkland Islands", "Malvinas"],
}

# Extra Russian names beyond iso-codes and CLDR. Same prefixes.
RU_EXTRA = {
    "US": ["=США", "Соединённые Штаты", "Соединённые Штаты Америки", "~Америка"],
    "GB": ["Великобритания", "Британия", "Соединённое Королевство", "Англия", "Шотландия",
           "Уэльс", "Северная Ирландия", "~английский"],
    "RU": ["Россия", "=РФ", "~русский"],
    "KR": ["Южная Корея", "Республика Корея", "~Корея"],
    "KP": ["Северная Корея", "=КНДР", "~Корея"],
    "CN": ["Китай", "=КНР"],
    "TW": ["Тайвань"],
    "HK": ["Гонконг", "Сянган"],
    "MO": ["Макао", "Аомынь"],
    "CZ": ["Чехия"],
    "BY": ["Белоруссия", "Беларусь", "Республика Беларусь"],
    "MD": ["Молдавия", "Молдова"],
    "KG": ["Киргизия", "Кыргызстан", "Киргизстан"],
    "TM": ["Туркмения"],
    "CI": ["Кот-д'Ивуар", "Берег Слоновой Кости"],
    "AE": ["=ОАЭ", "Эмираты"],
    "ZA": ["=ЮАР", "Южная Африка"],
    "DE": ["=ФРГ"],
    "CD": ["=ДРК", "ДР Конго", "~Конго"],
    "CG": ["Республика Конго", "Конго-Браззавиль", "~Конго"],
    "CF": ["=ЦАР"],
    "MK": ["Северная Македония", "~Македония"],
    "SZ": ["Свазиленд"],
    "MM": ["Бирма"],
    "NL": ["Голландия"],
    "VA": ["Ватикан", "Святой Престол"],
    "PS": ["Палестина", "Газа", "сектор Газа", "Западный берег"],
    "SY": ["Сирия"],
    "VE": ["Венесуэла"],
    "IR": ["Иран"],
    "LA": ["Лаос"],
    "TR": ["Турция"],
    "FM": ["Микронезия"],
    "BO": ["Боливия"],
    "TZ": ["Танзания"],
    "FK": ["Фолкленды", "Фолклендские острова", "Мальвинские острова"],
    "ES": ["~испанский"],
    "FR": ["~французский"],
    "PT": ["~португальский"],
}

# Texts that are always Weak (match as folded text, any region). Common
# words, first names, US states and places with a more frequent namesake.
WEAK = {
    "Georgia", "Georgian", "Georgians", "Jordan", "Chad", "America", "Macedonia",
    "Victoria", "Kingston", "Georgetown", "Male", "Santiago", "Hamilton", "Nice",
    "Split", "Reading", "Bath", "Mobile", "Police", "Of", "Mary", "Bar", "Batman",
    "Roseau", "Saba", "Island", "Mann", "Guiana", "Micronesia", "Birmingham", "Córdoba",
    # demonyms that are also world languages
    "English", "Spanish", "French", "Arabic", "Portuguese",
    # Russian: common words, first names, the other Georgia, Peter
    "Того", "Гори", "Бар", "Питер", "Перу", "Чад",
}

# Texts that are always matched with their exact capitalisation.
EXACT_CASE = {"Turkey", "China", "Chad", "Jordan", "Guinea", "Jersey", "Chile",
              "Того", "Перу", "Чад", "Чили", "Мали", "Гори", "Бар", "Ница"}

# Texts that are never Weak even if another data rule would make them so
# (the namesake elsewhere is rarely in the news or is a much smaller place).
STRONG = {"Barcelona", "Athens", "American", "Americans", "Berlin", "Shanghai", "Geneva",
          "Colombo"}

# Curated exclusion phrases: alias occurrences inside them don't count.
# (Phrases where one region's alias is part of another region's alias, such
# as "South Sudan" for SD, are added automatically by the generator.)
EXCLUSIONS = {
    "BY": ["Minsk Group", "OSCE Minsk Group", "Minsk Process", "Minsk agreements",
           "Minsk accords", "Minsk Protocol", "Минская группа", "Минской группы",
           "Минский процесс", "Минские соглашения"],
    "MX": ["New Mexico", "New Mexican", "Нью-Мексико"],
    "JE": ["New Jersey", "Jersey City", "Нью-Джерси"],
    "GE": ["Georgia Tech", "Georgia State", "Atlanta, Georgia", "Georgia Bulldogs"],
    "FR": ["Paris Agreement", "Paris Climate Agreement", "Paris Club", "Paris Hilton",
           "Парижское соглашение"],
    "TR": ["Turkey Point", "Turkey Day"],
    "JO": ["Michael Jordan", "Air Jordan", "Jordan River"],
    "GN": ["New Guinea", "Guinea pig", "Guinea fowl", "Новая Гвинея"],
    "NE": ["Niger River", "Niger Delta"],
    "NL": ["Holland America"],
    "BE": ["Brussels sprouts"],
    "IN": ["Indian Ocean", "Indian Ocean Territory", "American Indian", "American Indians"],
}

# Capitals missing from GeoNames' country table: alpha-2 -> (English, Russian).
CAPITALS = {"BQ": ("Kralendijk", "Кралендейк")}

# Countries whose weak names count in context (src/regions/context.tsv):
# alpha-2 -> curated words that name the competing sense. Competitors that
# are another country's subdivisions and cities (Atlanta next to Georgia)
# are added by the generator.
CONTEXT = {
    "GE": ["Peach State", "Fulton County", "Gwinnett", "Brian Kemp", "Stacey Abrams",
           "Raffensperger", "Georgia Senate", "Atlanta Braves", "Atlanta Falcons"],
    "JO": ["Michael", "Jim Jordan", "Vernon Jordan", "Eddie Jordan", "NBA", "Nike",
           "Chicago Bulls", "Jumpman", "Peterson", "Henderson", "Pickford", "Spieth",
           "Peele", "Belfort", "Bardella"],
    "TD": ["hanging chad", "hanging chads", "Chad Kroeger", "Nickelback"],
    "MK": ["Thessaloniki", "Alexander the Great", "Philip II", "Greek Macedonia",
           "Central Macedonia", "Western Macedonia", "Eastern Macedonia", "ancient Macedonia"],
    "FM": ["Melanesia", "Polynesia", "Melanesian", "Polynesian"],
}
