"""Given names that are the same name to a practitioner: short forms (Bill, Will and Liam
for William) and spellings of one name across alphabets (Mohammed, Muhammad, Mohamed).

The table below is maintained by hand. One group per line, the formal name first, written
as registry.matching.keys.name_normalise gives it (lower case, no accents or punctuation). A
short form may sit in several groups (Alex: Alexander, Alexandra, Alexis); two names are
variants of each other only when they share a group, so Alexander and Alexandra are not.
Groups are deliberately conservative: linking names that belong to different people (Ian
and John, say) would raise the rate at which a different child is shown as a likely match.
"""

from functools import cache

_GROUPS = """
# English, Scottish, Welsh and Irish given names with their common short forms: boys
aaron aron arron
abraham abe bram
adam ad
adrian ade
alan allan allen al
albert bert bertie al
alexander alex alec alek sandy xander zander alexandre alessandro aleksander olek sasha
alfred alfie alf fred freddie freddy
alistair alasdair alastair alister
andrew andy drew andrzej andreas andre
angus gus
anthony antony tony ant anton antonio
archibald archie arch
arthur art artie
augustus august gus
barnaby barney
barry baz
bartholomew bart bartek bartlomiej
benedict ben benny
benjamin ben benji benny benjy
bernard bernie
bradley brad
brandon bran
callum calum cal
cameron cam
charles charlie chas chuck chaz
christian chris kris
christopher chris kit topher kris christoph krzysztof krzys
cornelius neil
cuthbert bertie
daniel dan danny dani
david dave davey davy dai dafydd dewi dawid
declan dec
dennis denis den
derek del
dominic dom dominik
donald don donny
douglas doug dougie
duncan dunc
edmund ed eddie ned
edward ed eddie eddy ned ted teddy edwin
edwin ed eddie
elliot elliott eliot
emmanuel manny immanuel emanuel
ernest ernie
eugene gene
ezekiel zeke
felix flick
ferdinand ferdie
francis frank frankie fran franciszek francesco francisco
frankie frank
frederick frederic fred freddie freddy fredrick fryderyk
gabriel gabe gabi
geoffrey jeffrey jeff geoff
george georgie geordie jorge georgios jerzy
gerald gerry jerry ged
gerard gerry ged
gilbert gil bert
gregory greg gregor grzegorz
harold harry hal
harrison harry
henry harry hal hank henryk enrique
herbert herb bert
hugh hughie hugo
humphrey humph
isaac ike isaak
jacob jake jakob jakub kuba jacoby yakub yaqub
james jim jimmy jamie jimbo jas
jeremy jerry jez
jerome jerry
joel jo
john johnny jack jon jonny johnnie
jonathan jon jonny jonty nathan
joseph joe joey jo jozef jose giuseppe josef
joshua josh
julian jules
justin just
kenneth ken kenny
kevin kev
laurence lawrence larry laurie lol
leonard len lenny leo
leonardo leo
lewis louis lou lew luis
luke luka lukasz
lucas lukas
malcolm mal
marcus marc mark
martin marty marcin
matthew matt matty mat mateusz matteo mathew
maurice mo maurycy
maximilian max maks maksymilian
maxwell max
michael mike mikey mick micky mickey michal mikolaj mihail mikhail misha
mitchell mitch
montgomery monty
nathan nate nat
nathaniel nathanael nat nate nathan
nicholas nick nicky nico nikolas nikolai mikolaj nicolas
nigel nige
noah noa
oliver ollie olly oli
oscar ozzy oskar
oswald oz ozzy
patrick pat paddy patryk padraig
peter pete piotr pedro pietro
philip phillip phil pip filip
quentin quin
raymond ray
reginald reg reggie
richard rich richie rick ricky dick rik ryszard
robert rob robbie bob bobby bert robin robbert
roderick rod roddy
rodney rod
roger rodge
ronald ron ronnie
rupert rupe
russell russ
samuel sam sammy samuele
sebastian seb bastian sebastien
sidney sydney sid
simon si szymon
solomon sol
stanley stan stanislaw
stephen steven steve stevie stefan steph szczepan
stuart stewart stu
terence terry tel
trevor trev
theodore theo ted teddy
thomas tom tommy tomas tomasz tomek
timothy tim timmy
tobias toby tobi
vincent vince vinnie vinny
walter walt wally
wilfred wilfrid wilf will fred
william will bill billy liam willie willy wills billie wiliam
zachary zach zack zak zac zachariah zakariya zakaria zakariyya zakariyah
# English, Scottish, Welsh and Irish given names with their common short forms: girls
abigail abbie abby abi gail
adelaide addie ada
adriana adrianna adrienne
agnes aggie nessa agnieszka aga
alexandra alex alexa lexi sandra sasha aleksandra ola sandy
alexis alex lexi
alice ally allie
alison allison ally allie
amanda mandy manda
amelia millie milly
anastasia ana stacey tasha nastia
angela angie
annabel annabelle anna bella belle
anne ann anna annie anya ania hanna
antonia toni tonia
arabella bella belle
barbara barb babs basia
beatrice bea beatrix trixie
bernadette bernie detta
bridget bridie biddy brigid brigitte
camilla millie cami milla
caroline carol carrie caz carolyn karolina
catherine katherine kathryn katharine cathryn kate katie kath kathy cath cathy kay kit kitty katy katey
cecilia cecily cissy
charlotte charlie lottie lotte carly
christina christine chris chrissie tina kristina krystyna
clara clare claire
constance connie
cynthia cindy
deborah debra debbie deb debs
dorothy dot dottie dolly dora
edith edie
eleanor elinor eleanora ellie nell nellie nora
elizabeth elisabeth eliza liz lizzie lizzy beth betty bess bessie libby lisa elsie lilibet elzbieta betsy
ellen ellie nell
emily emilie emmy em milly millie emilia emilka
emma em emmy
esther essie hester
eugenie genie
evangeline eva evie
evelyn eveline evie eve
florence flo florrie flossie
frances fran frankie fanny
francesca fran frankie cesca
gabrielle gabriella gabby gabi
georgina georgia george georgie gina
geraldine gerry
gillian jillian gill jill
gwendolyn gwen wendy
harriet hattie harry
helen helena ellen nell lena elena jelena
henrietta etta hetty
isabel isabella isabelle izzy bella belle izabela izabella issy isobel ishbel
jacqueline jackie jacqui
jane jenny jan janie
janet jan jenny
jennifer jen jenny jenna
jessica jess jessie
joanna joanne jo jo anna asia
johanna hanna jo
josephine jo josie jozefina
judith judy jude
julia jules julie
katarzyna kasia kasha
kimberley kimberly kim
laura lori laurie
lauren laurie
leonora leonie nora
lillian lilian lily lil
louisa louise lou lulu
lucinda lucy cindy
lucy lucie
madeleine madeline madeline maddie maddy madelyn magdalena magda
margaret maggie meg peggy maisie greta rita marge margot malgorzata gosia margarita
marjorie marge margie
martha marta marty mattie
mary molly polly mae may maria marie
matilda tilly tilda mattie
melanie mel
melissa mel missy
millicent millie milly
miriam mim mimi maryam mariam maryum
nancy nan
natalie nathalie natalia natasha nat tasha natasza
nicola nicole nicky nikki
olivia liv livvy ollie livia oliwia
pamela pam
patricia pat patsy tricia trish
penelope penny
philippa pippa pip phillipa
phoebe phebe
priscilla cilla
rachel rachael
rebecca rebekah becky becca bex
roberta bobbie
rosalind ros roz
rosemary rose rosie
samantha sam sammy
sandra sandy
sarah sara sally sadie
sophia sophie sofia sofie zofia zosia
stephanie steph stef stefania
susan susanna susannah sue susie suzy zuzanna
sylvia silvia
teresa theresa tess tessa terri
valerie val
veronica ronnie nica
victoria vicky vicki tori
virginia ginny
winifred winnie freda
yvonne von
# Irish, Scottish and Welsh names and their English spellings
aoife eva effie
caoimhe keeva kiva
ciara keira kiera kira ciera kiara
ciaran kieran kieron ciaron keiran
conor connor conner konnor
cormac cormack
eoin owen ewan euan eoghan
grainne grania
iain ian
mairead maraid
niamh neve neave niav nieve
oisin osheen
padraig patrick
ruairi rory ruari ruaridh
saoirse sersha seersha
sean shaun shawn shane
seamus shamus hamish james
sian shan sharn
sinead shinade
siobhan shivaun shevaun chevonne shivonne
tadhg teague teigue
dylan dillon
rhys reece rees reese
gareth gaz
gwyneth gwyn
ieuan iwan evan
llewellyn llew
morgan mo
# Arabic, Persian, South Asian and Turkish names: the spellings English records use
muhammad mohammed mohammad mohamed muhammed mohamad mohammod mahomed mohd muhamed mohamud mohummed muhamad mo
mehmet muhammet
ahmed ahmad ahmet ahmid
mahmoud mahmud mehmood mahmood
hussain hussein husain hossain husein hussan husayn
hassan hasan hasaan
hasnain hasnayn
abdullah abdulla abdallah
abdul abdoul
abdulrahman abdurrahman
yusuf yousuf yousef youssef yusef yoosuf yusif
ibrahim ebrahim ibraheem
ismail ismael esmail ismaeel
idris idrees edris
isa eesa issa esa
musa moosa mousa
omar umar omer
othman uthman osman usman
ali aly
hamza hamzah hamzeh
haroon harun haroun
bilal belal
faisal faysal feisal
hamid hameed
imran imraan
irfan erfan
junaid junayd
khalid khaled
mustafa mostafa mustapha
nabil nabeel
rashid rasheed
rayyan rayan raiyan
ayaan zain zayn zane zayan
zakir zaakir
yasin yaseen yassin
yahya yehia yahia
suleiman sulaiman sulayman suleyman
dawud dawood daud
aisha ayesha aysha aishah ayshah aisah aicha
fatima fatimah fatema fatma fatuma
khadija khadijah khadeeja khadeja
maryam mariam maryum mariyam
zainab zaynab zeinab zaineb
amina aminah ameena amena
hafsa hafsah
safiya safia safiyah saffiyah
sumaya sumaiya sumayyah sumayah
aaliyah aliyah aliya aleah alia aleeyah aaliya
amira ameera amirah
hana hanaa hannah
inaya inaaya enaya
layla laila leila leyla lyla
noor nur nour
nadia nadiya nadiyah
rukhsana ruksana
samira sameera
yasmin yasmine jasmin jasmine yasmeen
zara zarah
zahra zehra
zoya zoha
anaya anaaya
priya pria
harpreet harpreeth
gurpreet gurprit
mandeep mundeep
sandeep sundeep
pradeep pardeep
arjun arjan
# African given names and their usual short forms
oluwaseun seun
oluwatobiloba oluwatobi tobi tobiloba
oluwadamilola damilola dami
oluwafemi femi
oluwatosin tosin
oluwakemi kemi
olufunmilayo funmilayo funmi
oluwabukola bukola buki
oluwatoyin toyin
ayodeji deji
adebayo bayo
adewale wale
babatunde tunde
chukwuemeka emeka
chiamaka amaka
chinonso nonso
ikechukwu ike
nnamdi namdi
# Eastern European names and their English forms
aleksandr aleksander alexander sasha
aleksei alexei alexey alexie
dmitri dmitrij dmitry dimitri dima
ekaterina yekaterina katya katerina katarina
yelena elena jelena lena
ivan ivo
jan janek
krystian christian
lukasz lucas
maciej maciek
mikhail michail mihail misha
natalya natalia natasha
pawel pavel paul
piotr peter
sergei sergey serhiy
tatiana tatyana tanya
wojciech wojtek
yuri yury jurij juri
ionut ion
stefan stefano stephan
# Given names that English records spell several ways
aidan aiden aden ayden aydan
ashley ashleigh
bailey baylee
brooke brook
caitlin kaitlyn katelyn caitlyn kaitlin katelin
carly carlie
chloe chloey
corey cory korey
darcy darcey darci
eden edan
ella ela
erin eryn
esme esmee esmae
evie evey
freya freja
gracie gracey
haley hailey hayley haleigh
isla islay
jayden jaden jaiden jaydon
kayla kaylah
kyle kile
leah lea lia
lacey lacy
leighton layton
lily lilly lillie
logan logen
mackenzie mckenzie makenzie
madison madisyn maddison
maisie maisy mazie
megan meghan meagan
mia miya
millie milly
molly mollie
naomi naomie
nevaeh neveah
phoebe pheobe
poppy poppie
riley reilly rylee
robyn robin
rosie rosy
ruby rubi
scarlett scarlet
skye sky
sophie sophy
summer sumer
tyler tylor
zoe zoey zoie
"""


@cache
def _groups_by_name() -> dict[str, frozenset[int]]:
    groups: dict[str, set[int]] = {}
    for number, line in enumerate(_GROUPS.splitlines()):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for name in line.split():
            groups.setdefault(name, set()).add(number)
    return {name: frozenset(numbers) for name, numbers in groups.items()}


def given_name_groups(name: str) -> frozenset[int]:
    """The groups a normalised given name belongs to; empty if the table does not know it."""
    return _groups_by_name().get(name, frozenset())


def given_names_are_variants(first: str, second: str) -> bool:
    """True when two different normalised given names are forms of the same name."""
    return first != second and not given_name_groups(first).isdisjoint(given_name_groups(second))
