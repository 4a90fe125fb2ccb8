"""The cues the rule classifier weighs: what buyers write for each intent, in German and
English, as they actually type (no umlauts, compounds, typos are matched in classify.py).

Everything here is matched against the *normalised* text: lower case, ä→ae, ö→oe, ü→ue,
ß→ss, whitespace collapsed. `PHRASES` are regular expressions for word groups; `STEMS` are
word beginnings matched anywhere in a word (so "Rücksendeetikett" contains "ruecksend")
and, for stems of five letters or more, with one typo ("stonieren", "retrun"). A weight
is how strongly a cue speaks for its intent; the highest sum wins, below MIN_SCORE the
message is "other". Negative weights take evidence away (a "Mail-Adresse" is no postal
address).
"""

from __future__ import annotations

MIN_SCORE = 2.0

PHRASES: dict[str, tuple[tuple[str, float], ...]] = {
    "where_is_my_order": (
        (r"\bwo (?:bleibt|ist|steckt|befindet sich|sind)\b|\bwo (?:\w+ ){1,2}(?:bleibt|steckt|befindet)\b", 3.0),
        (r"\bwhere(?:'?s| is| are)\b", 3.0),
        (r"\bwann? (?:kommt|kommen|wird|werden|geht|gehen|kann ich|ist|erfolgt)\b", 2.0),
        (r"\bwann\b.{0,50}\b(?:ankommt|ankommen|kommt|geliefert|versendet|verschickt|da ist|zugestellt)\b", 2.5),
        (r"\bnoch keine (?:ware|lieferung|sendung|versand\w*|info\w*|nachricht)\b", 2.5),
        (r"\bwhen (?:will|does|is|do|can)\b.{0,40}\b(?:arrive|ship|come|deliver|get)", 3.0),
        (r"\bwhens\b", 3.0),
        (r"noch (?:nicht|nichts|keine?n?) (?:\w+ ){0,3}(?:da|angekommen|erhalten|bekommen|geliefert|verschickt|versendet|"
         r"versandt|rausgegangen|eingetroffen)", 2.5),
        (r"(?:bis heute|immer noch|noch immer|bisher|bis jetzt)(?: \w+){0,3} (?:nichts|nicht|keine?)\b", 2.0),
        (r"\b(?:not|never|still(?: not)?|yet to|haven'?t|havent)(?: \w+){0,2} (?:arrived|received|recieved|got|here|shipped)",
         2.5),
        (r"\b(?:still|been) waiting\b", 2.5),
        (r"\bwarte\w* (?:seit|noch|immer|jetzt|schon)", 2.5),
        (r"\bany (?:update|news)\b", 2.5),
        (r"\bschon (?:raus|unterwegs|verschickt|versendet|versandt|abgeschickt|rausgegangen|auf dem weg)", 3.0),
        (r"\bauf dem weg\b", 2.0),
        (r"\b(?:noch )?nicht (?:da|angekommen)\b", 1.5),
        (r"\b(?:stand|status) (?:meiner|der|meines) (?:bestellung|lieferung|sendung)", 3.0),
        (r"\bwie (?:ist|sieht) (?:der|es mit) (?:aktuelle )?(?:stand|status|lieferstatus)", 3.0),
        (r"\bwie lange dauert\b", 2.0),
        (r"\b(?:has|is|was) (?:my|the) (?:order|package|parcel|item)\b", 1.5),
        (r"\b(?:keine|kein) versand", 2.0),
        (r"\bnicht (?:verschickt|versendet|versandt)\b", 2.0),
        (r"\bueberfaellig\b", 2.0),
        (r"\bbis wann\b", 1.5),
        (r"\bhaengt\b", 1.0),
        (r"neuen status|hasn'?t updated|not updated", 1.5),
        (r"\bstatus\b", 1.0),
        (r"\bvermiss\w* (?:\w+ ){0,2}(?:sendung|paket|lieferung|bestellung|ware)|\b(?:sendung|paket|lieferung) vermiss", 3.0),
        (r"\bnoch (?:nix|nichts) gehoert\b|\bhaven'?t heard\b|\bnot heard\b", 2.5),
        (r"\b(?:on (?:the|its) way|in transit)\b", 2.5),
        (r"\b(?:is|are|running) late\b|\bverspaet\w*|\bverzoeger\w*|\bueberschritten\b|\bdelayed\b", 2.5),
        (r"\b(?:uebergeben|abgeschickt|dispatched|dispatch)\b", 1.5),
        (r"\bmit der (?:lieferung|zustellung|ware|sendung) rechnen\b|\bexpect (?:my|the) (?:order|package|parcel|delivery)\b",
         3.0),
        (r"\bkommt (?:\w+ ){0,3}(?:noch|bald|diese woche|heute|morgen|endlich)\b", 2.0),
        (r"\bwie (?:siehts|sieht es) aus mit\b", 2.5),
        (r"\b(?:shipping|delivery|order|shipment) status\b|\beta\b", 3.0),
    ),
    "return": (
        (r"\b(?:schick|send|geb|bring)\w* (?:\w+ ){0,4}zurueck\b", 3.0),
        (r"\bzurueck (?:zu )?(?:schick|send|geb)", 3.0),
        (r"\b(?:send|ship) (?:it|this|them|the \w+) back\b", 3.5),
        (r"\b(?:make|start|request) a return\b|\breturns? label\b", 4.0),
        (r"\b(?:want|like|wish) to return\b|\breturn (?:the|this|my|it|an|order)\b|\bcan i return\b", 4.0),
        (r"\bpasst (?:leider |mir |uns )?nicht\b|\bgefaellt (?:mir )?(?:leider )?nicht\b|\bdoesn'?t fit\b", 1.5),
        (r"\bzu (?:klein|gross|laut|schwer|teuer)\b", 1.0),
        (r"\bnicht wie beschrieben\b", 1.0),
        (r"\bwie (?:funktioniert|geht|laeuft) (?:das|die ruecksendung|die retoure)\b", 1.0),
        (r"\bwohin\b", 1.0),
        (r"\b(?:widerrufsrecht|widerrufe (?:ich )?(?:hiermit )?den kauf)", 2.0),
        (r"\bwiderrufe\b.{0,30}\bkaufvertrag", 3.0),
        (r"\bchanged my mind\b", 1.0),
        (r"\baufkleber\b", 1.5),
        (r"\boriginalverpack", 1.0),
    ),
    "refund": (
        (r"\bgeld (?:\w+ ){0,3}(?:zurueck|wieder)\b", 2.0),
        (r"\bgeld (?:ist )?(?:aber )?(?:noch )?(?:nicht|immer noch nicht) (?:da|angekommen|zurueck|auf)", 3.5),
        (r"\bmoney back\b", 2.5),
        (r"\b(?:haven'?t|havent|not|still not)(?: \w+){0,3} (?:got|received|come back)\b.{0,25}\b(?:money|refund)", 3.0),
        (r"\bmoney hasn'?t\b", 3.0),
        (r"\bauf (?:die|meine) (?:rueck)?erstattung\b|\bauf mein geld\b|\bfor my refund\b", 3.0),
        (r"\berstatten sie\b|\bbitte (?:um )?(?:rueck)?erstatt", 2.0),
        (r"\bwann (?:\w+ ){0,4}(?:geld|erstatt\w*|zurueckgezahlt|gutschrift|refund)", 3.0),
        (r"\b(?:bekomme|kriege|erhalte) ich (?:mein|das|meine) (?:geld|erstattung)", 3.5),
        (r"\b(?:zurueckgeschickt|zurueckgesendet|zurueckgesandt|returned the|sent (?:it|the \w+) back)\b", 2.5),
        (r"\b(?:retoure|ruecksendung|return)\b.{0,40}\b(?:bei (?:ihnen|euch)|angekommen|eingegangen|zugestellt|"
         r"delivered to you|ging am)", 2.5),
        (r"\bstornierung (?:wurde|war|ist)\b|\b(?:order )?(?:was|been|got) cancell?ed\b|\bi cancell?ed\b", 3.5),
        (r"\bnoch nicht (?:zurueck)?(?:gebucht|ueberwiesen|erstattet)|\bnicht (?:auf meinem|zurueck)", 1.5),
        (r"\bteilbetrag\b|\bnur [\d,.]+ ?(?:€|eur|euro)\b|\bwrong amount\b|\bonly got\b", 3.0),
        (r"\b(?:rest|differenz) (?:ueberweisen|erstatten)", 2.0),
        (r"\bauf (?:meinem|mein) (?:konto|paypal)", 1.5),
        (r"\brueckbuchung\b|\bzurueckbuch\w*|\breimburs\w*|\bzurueckerstatt\w*", 3.5),
        (r"\bkaufpreis (?:\w+ ){0,2}zurueck\b|\bueberweisen sie (?:mir )?(?:den|das|bitte)\b|\bzu wenig (?:erstattet|zurueck)",
         3.0),
        (r"\bexpect my money\b|\bmy money\b", 2.5),
    ),
    "cancellation": (
        (r"\bbitte (?:\w+ ){0,5}stornier", 1.5),
        (r"\bstornier\w* sie\b|\bmoechte\b.{0,40}\bstornier|\bstorniere (?:ich )?(?:hiermit)?\b", 1.0),
        (r"\b(?:cancel|cancle)\w* (?:my|the|this|order|one|please|it)\b|\bplease cancel\b|\bcan i (?:still )?cancel\b",
         1.5),
        (r"\bnicht mehr (?:\w+ )?(?:versenden|losschicken|schicken|verschicken)\b|\bdon'?t send\b", 3.0),
        (r"\bbrauche (?:sie|ihn|es|das|die)? ?(?:doch )?nicht mehr\b|\bno longer need\b", 2.0),
        (r"\bmoechte (?:die|meine) bestellung (?:\w+ )?nicht mehr\b", 3.0),
        (r"\bvom kauf zuruecktreten\b|\bziehe meine bestellung zurueck\b", 3.5),
        (r"\brueckgaengig\b", 3.0),
        (r"\b(?:auftrag|bestellung) (?:noch )?(?:abbrechen|aufhalten)\b|\baufhalten\b", 3.0),
        (r"\bbestellung (?:bitte )?loeschen\b", 3.0),
        (r"\b(?:doppelt|zweimal|twice)\b.{0,20}\b(?:bestellt|ordered|placed)|\baus versehen\b|\bversehentlich\b|"
         r"\bby mistake\b", 1.5),
        (r"\bbevor (?:sie|er|es) (?:verschickt|versendet|versandt)|\bhasn'?t shipped\b|\bnoch nicht (?:unterwegs|verschickt)\b",
         1.5),
        (r"\bnie aufgegeben\b", 2.0),
        (r"\bfound (?:it )?(?:cheaper|a better)|\banderweitig gekauft\b|\bwoanders\b", 1.0),
        (r"\bwiderrufen\b.{0,30}\bbevor\b", 2.0),
    ),
    "damaged": (
        (r"\b(?:laeuft|heizt|mahlt|startet|laedt|kocht|schneidet|dreht|leuchtet|schliesst) (?:\w+ )?nicht\b|"
         r"\bnicht zu gebrauchen\b|\bunbrauchbar\b", 3.0),
        (r"\b(?:kaputt|defekt|beschaedigt|zerbrochen|verkratzt|verbeult|gesprungen|undicht|broken|damaged)\w* "
         r"(?:\w+ ){0,2}(?:angekommen|geliefert|arrived)", 3.0),
        (r"\bfunktioniert (?:\w+ ){0,2}nicht\b|\bgeht (?:\w+ )?(?:nicht (?:mehr )?(?:an|zu)|einfach aus|kaputt)\b|"
         r"\bschaltet sich nicht\b", 3.5),
        (r"\b(?:stopped|doesn'?t|doesnt|won'?t|does not) (?:work|turn on|close|switch on)", 3.5),
        (r"\bloest sich\b|\bhaelt nicht\b", 3.0),
        (r"\barrived (?:broken|damaged|cracked|shattered)\b", 4.0),
        (r"\bbig dent\b|\bdent in\b", 3.0),
        (r"\bbeim (?:ersten|auspacken)\b", 1.0),
        (r"\bfehler am\b", 2.5),
        (r"\bgefaehrlich\b|\bqualm|\bsicherung\b|\bdangerous\b", 2.0),
        (r"\bzersplittert\b|\bsplitter\b|\bstumpf\b|\brost\w*\b|\bwackelt\b|\bist lose\b|\blocker\b|\bverbrannt\b|"
         r"\babgeplatzt\b|\bausgelaufen\b|\bverformt\b|\bkaputt gegangen\b|\bgarantiefall\b|\bbeschaedigung\b", 3.0),
        (r"\bfaulty\b|\bcame off\b|\bfell off\b|\bbroke\b|\bscratched\b|\bchipped\b|\bleak(?:s|ing)?\b|\bnot working\b|"
         r"\breceived (?:\w+ ){0,2}(?:cracked|broken|damaged)", 3.5),
    ),
    "invoice": (
        (r"\b(?:eine|die|der|keine|ordnungsgemaesse|kopie der) rechnung\b", 1.0),
        (r"\brechnung\b.{0,25}\b(?:schicken|senden|zusenden|zukommen|ausstellen|mailen|herunterladen|fehlt|per mail|"
         r"als pdf|mit|auf)\b", 2.0),
        (r"\b(?:brauch|benoetig|beantrag)\w* .{0,40}\brechnung", 2.0),
        (r"\bsend (?:me )?(?:an |the )?(?:invoice|receipt)\b|\bneed (?:an? )?(?:vat )?(?:invoice|receipt)\b|"
         r"\bissue an invoice\b", 2.0),
        (r"\bfirmen(?:adresse|name|namen)\b|\bcompany name\b|\bfor my company\b", 1.5),
        (r"\bmehrwertsteuer\b|\bust-?idnr|\bvat\b|\bsteuer\b|\btax\b|\bexpenses\b|\babrechnung\b", 1.5),
    ),
    "address_change": (
        (r"\b(?:andere|neue|falsche|richtige|meine) (?:lieferadresse|adresse|anschrift|lieferanschrift|strasse|plz|"
         r"hausnummer)\b", 3.0),
        (r"\b(?:wrong|new|different|update the|change the|office) (?:shipping |delivery )?(?:address|adress)\b", 4.0),
        (r"\b(?:adresse|anschrift) (?:aendern|korrigieren|ergaenzen|hinzufuegen)\b|\bzur adresse hinzu", 3.0),
        (r"\b(?:an|nach|in) (?:meine|die|eine|meinen) (?:\w+ )?(?:arbeitsadresse|firma|eltern|buero|arbeit|packstation|filiale)\b|"
         r"\b(?:an|zu) meinen eltern\b", 3.0),
        (r"\b(?:statt|stattdessen|instead)\b", 1.0),
        (r"\bumleiten\b|\bumschreiben\b|\bumgezogen\b|\bvertippt\b|\bvertan\b", 2.0),
        (r"\bklingel|\bc/o\b|\bwohnung\b|\b\d\. og\b", 2.0),
        (r"\b\d{5} [a-z]", 1.0),
        (r"\b(?:e-?)?mail-?adresse\b|\bemail address\b", -4.0),
        (r"\b(?:an|zu) meine[rnm]? (?:nachbar\w*|tochter|sohn|mutter|vater|freundin|freund|mann|frau|schwester|bruder)\b",
         3.0),
        (r"\b(?:ship|send|deliver) (?:it )?to my\b|\bnew address\b|\bi moved\b", 3.0),
        (r"\b(?:plz|postleitzahl) (?:\w+ ){0,3}(?:auf|in|aendern)\b|\bgleiche strasse\b", 3.0),
    ),
    "product_question": (
        (r"\b(?:ist|sind) (?:die|der|das|es|sie)? ?\w*(?: \w+)? (?:auch )?(?:geeignet|spuelmaschinen|spuelmaschinenfest|"
         r"mikrowellen|backofen|rostfrei|bpa|bleifrei)", 2.5),
        (r"\bgeeignet\b|\bsuitable\b|\bspuelmaschin|\bdishwasher\b|\binduktion|\binduction\b|\bmikrowell|\bmicrowave\b|"
         r"\boven\b|\bbackofen\b", 3.0),
        (r"\bwelche (?:masse|farbe|groesse|farben)\b|\bwhat are the dimensions\b|\bdimensions\b|\bmasse\b", 3.0),
        (r"\b(?:haben|bieten|fuehren) sie (?:\w+ )?(?:auch|den|die|das|noch)\b|\bgibt es (?:\w+ )?(?:dazu|auch|ersatz)", 2.0),
        (r"\bauch in (?:schwarz|weiss|rot|blau|gruen|grau|anderen)\b|\bavailable in\b|\bin stock\b", 3.0),
        (r"\bwieder (?:lieferbar|verfuegbar|da)\b|\bback in stock\b", 3.0),
        (r"\bersatzteil|\bspare part", 3.0),
        (r"\bpfas\b|\bpfoa\b|\bbpa\b|\bbleifrei\b|\brostfrei\b|\bmaterial\b|\bbeschichtung\b|\bgusseisen", 2.0),
        (r"\bwie (?:viel|viele|hoch|gross|lang|breit|schwer)\b|\bhow (?:big|large|heavy|many)\b|\bliter\b", 2.0),
        (r"\bpasst (?:der|die|das) \w+ (?:auch )?(?:auf|in|zu)\b|\bpassenden?\b", 2.5),
        (r"\bmengenrabatt|\brabatt\b|\bdiscount\b", 2.0),
        (r"\b(?:versenden|liefern|ship) (?:sie |you )?(?:auch )?(?:in die|nach|to)\b|\bdo you ship\b", 2.5),
        (r"\bals geschenk\b|\bgeschenkverpack", 1.5),
        (r"\bueberlege\b|\binteressiere mich\b", 2.0),
        (r"\bgarantie\b.{0,20}\?|\bwarranty\b.{0,20}\?", 0.5),
        (r"\bfassungsvermoegen\b|\bvolumen\b|\bcapacity\b|\blieferumfang\b|\bincluded\b|\binklusive\b|\bgewicht\b|"
         r"\bweight\b|\bwie schwer\b", 3.0),
        (r"\b(?:work|works|working) on\b|\bcompatible\b|\bkompatibel\b|\bgasherd\b|\bgas stove\b|\bceran", 3.0),
        (r"\bwie reinig\w*|\breinigen\b|\bpflege\w*\b|\bhow (?:do i|to) clean\b|\blinkshaender\b", 2.5),
        (r"\bgibt es (?:die|den|das) \w+ auch\b|\bim \d+er-?set\b|\bdoes (?:this|it) (?:\w+ )?(?:work|fit|come)\b|"
         r"\bis the \w+ (?:included|made|safe)\b", 2.5),
    ),
    "delivery_problem": (
        (r"\b(?:zugestellt|delivered|abgegeben)\b.{0,60}\b(?:nicht|never|nie|not|nichts)\b", 4.0),
        (r"\bnicht (?:\w+ ){0,2}(?:erhalten|bekommen)\b.{0,30}\bzugestellt|\bals zugestellt\b", 3.0),
        (r"\b(?:falsche[nrs]?|anderen?) (?:artikel|farbe|groesse|menge|ware|adresse|teil)\b|\bwrong (?:item|colou?r|size)\b|"
         r"\breceived the wrong\b", 3.0),
        (r"\b(?:falsche[nrs]?|wrong)\b.{0,30}\b(?:geliefert|bekommen|erhalten|received|sent|delivered|gekommen)", 2.0),
        (r"\bnur (?:eins|einen|eine|ein teil|die haelfte) (?:\w+ )?(?:bekommen|erhalten|geliefert)", 3.5),
        (r"\bstatt (?:\w+ ){0,3}(?:bekommen|geliefert|gekommen)\b|\bgekommen ist\b|\bthis is a \w+ one\b", 2.0),
        (r"\bunvollstaendig\b|\bincomplete\b|\bnur (?:ein|einer|eins|einen|eine|\d+) (?:teil|der|von|paket)\b|"
         r"\bonly one of\b|\bis missing\b|\bother is missing\b", 3.5),
        (r"\b(?:fehlt|fehlen)\b", 1.5),
        (r"\b(?:zurueck an (?:den )?absender|returned to sender|ging zurueck|ist zurueck|wird zurueckgeschickt)\b", 4.0),
        (r"\b(?:nachbar\w*|neighbou?r)\b.{0,40}\b(?:abgegeben|zugestellt|hat es nicht|liegt|left|delivered)|"
         r"\b(?:abgegeben|zugestellt|left|delivered)\b.{0,40}\b(?:nachbar\w*|neighbou?r)", 3.0),
        (r"\babholcode\b|\babholfrist\b|\bbenachrichtigungskarte\b|\bnachforschungsauftrag\b|\bfuellmaterial\b", 3.5),
        (r"\bnicht angetroffen\b|\bvor die tuer\b|\bunterschrift\b|\bnie bekommen\b|\bnever got\b", 3.0),
        (r"\bin der (?:filiale|packstation)\b", 1.5),
        (r"\bzwei pakete\b|\bbeide zugestellt\b", 2.0),
        (r"\bpaketshop\b|\bpaketladen\b|\babholstation\b|\bbriefkasten\b|\bmitgenommen\b", 2.5),
        (r"\b(?:kam|ist) leer\b|\bleer (?:bei mir )?an\b|\bempty (?:box|package|parcel)\b", 3.5),
        (r"\bim karton\b|\bin the box\b", 1.5),
        (r"\bwrong (?:house|address|door|flat)\b|\bitem missing\b|\bmissing item\b|\bleft (?:my|the) (?:parcel|package)\b|"
         r"\bgestohlen\b|\bstolen\b|\bit'?s gone\b|\bist weg\b", 3.0),
    ),
    "complaint": (
        (r"\b(?:keine antwort|niemand antwortet|keiner geht ran|nobody answers|no (?:answer|reply))\b", 2.0),
        (r"\bnie wieder\b|\bnever again\b|\bworst\b", 3.0),
        (r"\bnegative (?:bewertung|feedback|review)\b", 3.0),
        (r"\bnicht in ordnung\b|\bsollte besser\b|\bfeedback geben\b", 2.5),
        (r"\bschlecht\w* (?:service|qualitaet|kundenservice)\b|\bcustomer service is\b", 3.0),
        (r"\b(?:anwalt|lawyer)\b", 2.0),
        (r"\birrefuehrend\b|\bmisleading\b", 2.0),
        (r"\breporting you\b", 1.5),
        (r"\bwerbemails?\b", 2.0),
        (r"\b(?:nicht|gar nicht|ueberhaupt nicht) zufrieden\b|\bunzufrieden\b|\bunhappy\b|\bnot (?:happy|satisfied)\b", 3.0),
        (r"\bschlechte erfahrung\b|\bbad experience\b|\bpoor (?:service|quality|communication)\b|\bletzter einkauf\b|"
         r"\blast (?:purchase|order from you)\b", 3.0),
        (r"\bsauer\b|\bwuetend\b|\bangry\b|\bannoyed\b|\bfrustrat\w*|\bzumutung\b|\bunterirdisch\b", 3.0),
        (r"\bkundendienst\b|\bkundenservice\b|\bcustomer service\b|\bkommunikation\b", 1.0),
        (r"\bso lange\b|\bdreimal\b|\bthree times\b", 1.0),
    ),
    "gdpr": (
        (r"\b(?:meine|alle|meiner|die) (?:\w+ )?daten\b|\b(?:my|all) (?:personal )?(?:data|information)\b", 2.5),
        (r"\bdaten\w* (?:zu )?(?:loeschen|geloescht|entfernen)|\bloesch\w* .{0,40}\b(?:daten|konto|account|kundenkonto)\b",
         3.0),
        (r"\b(?:delete|remove|erase|erasure)\b.{0,30}\b(?:data|information|account)\b", 3.0),
        (r"\bwhat (?:personal )?data\b|\bdata (?:do )?you (?:hold|have|store)\b|\bdata you have\b", 4.0),
        (r"\bwoher haben sie\b|\bwhy do you have my\b", 3.0),
        (r"\b(?:telefonnummer|adresse|e-?mail)\b.{0,40}\b(?:entfernen|loeschen|nicht mehr speichern)\b", 3.0),
        (r"\bwelche daten\b|\bgespeichert\w*\b.{0,30}\bdaten\b|\bdaten\b.{0,30}\bgespeichert", 3.0),
        (r"\beinwilligung\b.{0,40}\bwiderruf|\bwiderspreche\b", 3.0),
        (r"\bwie lange speichern\b|\bspeicher\w*\b.{0,60}\bgeloescht\b", 3.0),
        (r"\bloesch\w* (?:\w+ ){0,3}(?:ueber mich|von mir)\b|\b(?:alles|alle infos?|alle informationen) (?:\w+ ){0,3}"
         r"ueber mich\b", 4.0),
        (r"\bkopie meiner\b|\bcopy of all data\b", 2.0),
        (r"\bloeschung\b|\brecht auf loeschung\b|\bdatenschutzanfrage\b", 3.5),
        (r"\bangaben zu meiner person\b|\bzu meiner person\b|\babout me\b|\bkeep about me\b|\bstore about me\b", 3.0),
        (r"\b(?:personal|personenbezogene[nr]?) (?:data|information|daten)\b|\bverarbeit\w* (?:\w+ ){0,3}daten|"
         r"\bdaten\w* (?:\w+ ){0,3}verarbeit", 2.5),
        (r"\bprofil (?:\w+ )?loeschen\b|\bloeschen sie (?:\w+ )?(?:profil|konto|account)\b|\bspeicherung\b", 2.5),
    ),
    "auto_reply": (
        (r"\b(?:nicht im buero|out of (?:the )?office|abwesenheit\w*|im urlaub|on (?:parental |annual )?leave)\b", 5.0),
        (r"\bautomatisch\w* (?:generiert|erstellt|antwort|nachricht|eingangsbestaetigung|benachrichtigung)|"
         r"\bautomated message\b|\bauto-?reply\b|\bautomatic reply\b|\bautomatische\b", 5.0),
        (r"\b(?:do not|don'?t) reply\b|\bnicht auf diese \S+ antworten\b|\bnot monitored\b|\bwerden nicht gelesen\b", 4.0),
        (r"\bwieder erreichbar\b|\bnicht erreichbar\b|\blimited access to e-?mail\b|\bkeinen zugriff auf\b", 4.0),
        (r"\b(?:nachricht|message) (?:konnte|could) (?:nicht|not) (?:\w+ )?(?:zugestellt|delivered)|"
         r"\bdelivery status notification\b|\bempfaenger unbekannt\b|\bzustellbenachrichtigung\b", 7.0),
        (r"\bticket #?\d+ wurde erstellt\b", 4.0),
        (r"\bgewinnen sie\b|\bgewinnspiel\b|\bcongratulations\b|\bgift card\b|\bclaim\b|\bklicken sie hier\b|"
         r"\bclick (?:here|the link)\b|\bjetzt (?:unverbindlich|5 sterne)\b", 4.0),
        (r"\bseo\b|\bagentur\b|\bagency\b|\bunverbindliche?s? angebot\b|\bkredite?\b|\bwholesale\b|\bmanufacturer\b|"
         r"\bkatalog\b|\bcatalog\b|\bboost your\b|\bfree audit\b|\blistings? optimieren\b", 3.5),
        (r"\bbewerten sie\b|\bihre meinung ist uns wichtig\b|\bsterne vergeben\b", 4.0),
        (r"\bsehr geehrter haendler\b|\bdear sir/madam\b", 2.0),
        (r"\bautomatisch versendet\b|\bautomatically (?:generated|sent)\b|\babwesend\b|\bbe back on\b|\bback in the office\b",
         5.0),
        (r"\bmail delivery failed\b|\bundeliverable\b|\breturning message to sender\b|\bzustellung an folgende empfaenger\b|"
         r"\bdelivery has failed\b", 7.0),
        (r"\bearn \$|\blimited offer\b|\bclick now\b|\bjetzt klicken\b|\bmehr umsatz\b|\bspezialisten fuer\b|"
         r"\bwir helfen ihnen\b|\bwe help (?:you|sellers)\b|\bmarketing\b|\bwerbung\b", 3.5),
    ),
    "other": (
        (r"\b(?:vielen |lieben |herzlichen )?dank\w*\b|\bthanks?\b|\bthank you\b", 1.0),
        (r"\balles (?:klar|bestens|gut|super)\b|\bhat sich erledigt\b|\bgerne wieder\b|\btop verkaeufer\b|\bperfe[ck]t\b|"
         r"\bsuper\b|\bgot it\b", 1.5),
        (r"\bladengeschaeft\b|\bphysical store\b|\bstore i can visit\b|\boeffnungszeiten\b|\bmitarbeiter\b|"
         r"\bkooperation\b|\bgeschaeftskunden\b|\blieferanten\b|\bfollower\b|\bbloggerin?\b", 4.0),
        (r"\bverstanden\b|\bgeklaert\b|\bprima\b|\bgreat\b|\bschoenen tag\b|\bdanke fuer die (?:rasche|schnelle) antwort\b",
         1.5),
        (r"\binterview\b|\bumfrage\b|\bstudie\b|\bstudent\w*\b|\bsurvey\b|\bgutscheine?\b|\bgift vouchers?\b", 3.0),
    ),
}

# Word beginnings: matched anywhere inside a word, and with one typo when five letters or longer.
STEMS: dict[str, tuple[tuple[str, float], ...]] = {
    "where_is_my_order": (
        ("sendungsnummer", 3.0), ("sendungsverfolgung", 2.0), ("trackingnummer", 3.0), ("tracking", 2.5),
        ("paketnummer", 3.0), ("versandbestaetigung", 2.0), ("versandinformation", 2.0), ("versandmail", 1.5),
        ("liefertermin", 2.0), ("lieferstatus", 3.0), ("lieferzeit", 1.0), ("zustellung", 1.0), ("unterwegs", 1.5),
        ("verschick", 1.0), ("versend", 1.0), ("versand", 0.5), ("lieferung", 1.0), ("paket", 0.5), ("packet", 0.5),
        ("verteilzentrum", 2.0), ("paketdienst", 2.0), ("courier", 2.0), ("shipped", 1.5), ("shipping", 1.0),
        ("delivery", 1.0), ("parcel", 0.5), ("package", 0.5), ("warte", 1.0), ("waiting", 1.0), ("angekuendigt", 1.5),
        ("ankommt", 1.5), ("bearbeitung", 1.0), ("ou est ma commande", 4.0), ("waar is mijn", 4.0),
        ("gdzie jest", 4.0), ("donde esta mi pedido", 4.0), ("dov'e il mio", 4.0),
    ),
    "return": (
        ("zurueckschick", 3.5), ("zuruecksend", 3.5), ("zurueckgeb", 3.5), ("ruecksend", 3.0), ("etikett", 1.5),
        ("retoure", 3.5), ("retour", 1.0), ("retournier", 4.0), ("rueckgabe", 3.5), ("umtausch", 2.5),
        ("widerruf", 2.0), ("returns", 2.0), ("retrun", 3.0), ("return", 1.5), ("retourner", 4.0),
        ("retourneren", 4.0), ("devolver", 4.0), ("restituire", 4.0),
    ),
    "refund": (
        ("erstattung", 3.0), ("erstatten", 3.0), ("erstattet", 3.0), ("rueckerstattung", 3.5), ("rueckzahlung", 3.5),
        ("zurueckueberwies", 3.5), ("zurueckgebucht", 3.5), ("zurueckgezahlt", 3.5), ("gutschrift", 3.0),
        ("refund", 3.5), ("refnd", 3.5), ("rimborso", 3.0), ("rembourse", 3.0),
        ("terugbetaling", 3.0), ("reembolso", 3.0),
    ),
    "cancellation": (
        ("stornier", 4.0), ("storno", 4.0), ("cancel", 4.0), ("cancle", 4.0), ("annulier", 4.0), ("annuleren", 4.0),
        ("cancelar", 4.0), ("annuler", 4.0), ("annullare", 4.0), ("anulowac", 4.0), ("gecancelt", 4.0),
    ),
    "damaged": (
        ("defekt", 4.0), ("kaputt", 4.0), ("beschaedigt", 3.5), ("zerbrochen", 4.0), ("abgebrochen", 3.5),
        ("gesprungen", 3.5), ("sprung", 2.0), ("riss", 1.0), ("delle", 3.0), ("verbeult", 3.5), ("verbogen", 3.5),
        ("verkratzt", 3.5), ("kratzer", 3.0), ("undicht", 3.5), ("reklam", 3.0), ("mangel", 2.5),
        ("gewaehrleistung", 2.5), ("garantie", 1.5), ("kurzschluss", 3.5), ("zerdrueckt", 1.5), ("broken", 4.0),
        ("damaged", 3.5), ("defective", 4.0), ("shattered", 4.0), ("cracked", 3.5), ("warranty", 1.5),
        ("replacement", 1.0), ("ersatz", 1.0), ("austausch", 1.5), ("rotto", 4.0), ("casse", 3.0), ("kapot", 3.0),
    ),
    "invoice": (
        ("rechnung", 3.0), ("rechnug", 3.0), ("rechnungsnummer", 1.0), ("quittung", 4.0), ("beleg", 3.0),
        ("invoice", 4.0), ("receipt", 4.0),
    ),
    "address_change": (
        ("lieferadresse", 3.0), ("lieferanschrift", 3.0), ("anschrift", 2.0), ("adresse", 2.0), ("adress", 1.5),
        ("hausnummer", 3.0), ("postleitzahl", 3.0), ("packstation", 1.0), ("adressaenderung", 4.0),
        ("address", 2.0),
    ),
    "product_question": (
        ("spuelmaschinenfest", 3.0), ("mikrowellengeeignet", 3.0), ("induktion", 1.0), ("lieferbar", 1.5),
    ),
    "delivery_problem": (
        ("zugestellt", 1.0), ("delivered", 0.5), ("zusteller", 1.5), ("bote", 1.0),
    ),
    "complaint": (
        ("enttaeusch", 3.0), ("frechheit", 3.0), ("unverschaemt", 3.0), ("katastroph", 3.0), ("miserabel", 3.0),
        ("beschwer", 3.5), ("aergerlich", 2.5), ("veraergert", 3.0), ("aergert", 2.5), ("unzumutbar", 3.0),
        ("unfreundlich", 3.0), ("terrible", 3.0), ("disappointed", 3.0), ("unacceptable", 3.0), ("ridiculous", 2.0),
        ("rude", 2.5), ("overpriced", 2.5), ("service", 0.5),
    ),
    "gdpr": (
        ("dsgvo", 4.0), ("datenschutz", 4.0), ("gdpr", 4.0), ("personenbezogen", 3.0), ("datenauskunft", 5.0),
        ("datenloeschung", 5.0), ("datenuebertragbarkeit", 5.0), ("vergessenwerden", 5.0), ("auskunft", 2.0),
        ("berichtig", 2.5), ("einwilligung", 2.0), ("newsletter", 1.0), ("access request", 4.0),
    ),
    "auto_reply": (
        ("abwesenheitsnotiz", 5.0), ("eingangsbestaetigung", 3.0),
    ),
    "other": (),
}

# Words that never count as a typo of a stem (common words one letter away from a cue).
FUZZY_STOPWORDS: frozenset[str] = frozenset({
    "return", "paket", "parcel", "bitte", "hallo", "danke", "leider", "meine", "meiner", "einen", "diese", "dieser",
    "schon", "immer", "nicht", "haben", "wurde", "werden", "sollte", "ihnen", "unsere", "order", "ordered", "about",
    "their", "there", "where", "would", "could", "please", "thanks", "paypal", "versandt", "sprache", "service",
    "waren", "warten", "worden", "wieder", "heute", "dort", "retour", "bestellt", "bestellung", "stelle",
    "gestern", "morgen", "wochen", "warte", "waiting", "brauche", "adresse", "rechnen", "rechne", "delivery",
    "shipping", "reklame", "beleg", "belegt", "garantiert", "erstattet", "kratzer", "ersatz", "sprung", "riss",
    "storno", "cancel", "bote", "boten", "liefern", "lieferung", "ruecksende", "mangel", "mangels", "marke",
})

# -- urgency: legal words, anger, deadlines, danger (explained by the word that decided) --

URGENCY_LEGAL: tuple[str, ...] = (
    r"\b(?:rechts)?anwalt\w*", r"\bklage\b|\bverklagen\b|\bgericht\w*", r"\bverbraucherzentrale\b",
    r"\bwiderruf\w*", r"\bpolizei\b|\banzeige erstatten\b|\bstrafanzeige\b", r"\bdatenschutzbehoerde\b|\baufsichtsbehoerde\b",
    r"\bchargeback\b|\bkaeuferschutz\b|\ba-(?:bis|to)-z\b", r"\blawyer\b|\blegal action\b|\bsue\b",
    r"\bopen a case\b|\breport(?:ing)? (?:you|it|this) to\b|\bmelde (?:ich )?(?:es|das) amazon\b", r"\bfrist\w*\b",
)
URGENCY_ANGER: tuple[str, ...] = (
    r"\bfrechheit\b", r"\bunverschaemt\w*", r"\bkatastroph\w*", r"\bnegative (?:bewertung|feedback|review)\b",
    r"\bridiculous\b|\bunacceptable\b|\bterrible\b", r"\bzum (?:zweiten|dritten|x-ten) mal\b|\bthird time\b",
    r"!{2,}", r"\bunzumutbar\b",
)
URGENCY_DEADLINE: tuple[str, ...] = (
    r"\bbis (?:morgen|heute abend|spaetestens|freitag|montag|dienstag|mittwoch|donnerstag|samstag)\b", r"\bsofort\w*\b", r"\bumgehend\b",
    r"\bdringend\b", r"\basap\b|\burgent\b|\btoday\b", r"\bgefaehrlich\b|\bdangerous\b|\bqualm\w*|\bkurzschluss\b",
)

# -- language: the commonest short words of each language (the decision names those found) --

LANGUAGE_WORDS: dict[str, frozenset[str]] = {
    "de": frozenset("ich und die der das nicht ist mit sie bitte meine mein meiner hallo danke wo wann noch ein eine "
                    "habe hab auf fuer zu den dem es wir kann gibt guten tag schon auch aber wie bestellung paket "
                    "sehr geehrte damen herren vielen dank gruss gruesse bis seit ware mir mich".split()),
    "en": frozenset("i the and my is it to you please thanks hi hello where when have not order was for of this can "
                    "your with a an still has yet me thank would could dear".split()),
    "fr": frozenset("je le la les mon ma est pas bonjour merci commande ou ne des et un une vous souhaite rien "
                    "toujours apres comment faire il me".split()),
    "it": frozenset("il lo mio mia non ordine buongiorno grazie che di ho sono nessun numero vorrei dov'e arrivato "
                    "rimborso una".split()),
    "nl": frozenset("ik het een mijn niet bestelling waar graag heb nog wil alstublieft dank ontvangen niets".split()),
    "es": frozenset("el mi pedido hola gracias que por favor quiero donde esta todavia ha llegado cancelar".split()),
    "pl": frozenset("jest moja moje nie dzien dobry gdzie paczka zamowienie dziekuje sie tydzien temu "
                    "zlozylem".split()),
    "tr": frozenset("ben bir ve siparis nerede merhaba tesekkur icin degil".split()),
}
URGENCY_LABELS: dict[int, str] = {0: "normal", 1: "erhöht", 2: "dringend"}
LANGUAGE_NAMES: dict[str, str] = {"de": "Deutsch", "en": "Englisch", "fr": "Französisch", "it": "Italienisch",
                                  "nl": "Niederländisch", "es": "Spanisch", "pl": "Polnisch", "tr": "Türkisch",
                                  "und": "unbestimmt"}
