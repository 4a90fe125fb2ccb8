"""Text material for the demo world: a German household-goods seller and its buyers.

Each intent has subjects, openings, bodies and follow-ups written the way buyers write
(short and long, polite and annoyed, with typos added later by the generator). Slots in
braces are filled from the order: {order}, {product}, {days}, {date}, {city}, {street}.
"""

from __future__ import annotations

SHOP_NAME = "Lindenhof Haushaltswaren"
SHOP_AGENT_NAMES = ("Jana Krüger", "Tobias Lenz", "Miriam Yilmaz")

PRODUCTS: tuple[tuple[str, str, int], ...] = (
    ("LH-TF-750", "Edelstahl Trinkflasche 750 ml, doppelwandig", 2499),
    ("LH-TF-500", "Edelstahl Trinkflasche 500 ml, Bambusdeckel", 1999),
    ("LH-BR-01", "Brotkasten Bambus mit Schneidebrett-Deckel", 3495),
    ("LH-KM-12", "Keramik Müslischalen 4er-Set, salbeigrün", 2890),
    ("LH-PF-28", "Gusseisen Pfanne 28 cm, vorgeeinbrannt", 4990),
    ("LH-PF-24", "Edelstahl Bratpfanne 24 cm, induktionsgeeignet", 3990),
    ("LH-MS-3", "Messerset 3-teilig mit Magnetleiste", 5990),
    ("LH-SB-40", "Schneidebrett Akazie 40 x 25 cm", 2299),
    ("LH-VD-6", "Vorratsdosen Glas 6er-Set mit Bügelverschluss", 2795),
    ("LH-WK-17", "Wasserkocher Glas 1,7 l mit LED", 3499),
    ("LH-KF-FP", "French Press 1 l, Borosilikatglas", 2450),
    ("LH-MH-EL", "Elektrische Milchaufschäumer-Kanne", 3990),
    ("LH-TH-10", "Thermoskanne 1 l, mattschwarz", 2690),
    ("LH-BW-33", "Brotbackform Emaille 33 cm", 1890),
    ("LH-GS-BL", "Gewürzregal Wandmontage, 20 Gläser", 3299),
    ("LH-KT-5", "Küchentücher Leinen 5er-Pack", 1790),
    ("LH-SR-TW", "Spülbürsten-Set Buche, 3 Stück", 990),
    ("LH-DK-2", "Kuscheldecke Strick 130 x 170 cm, sand", 4490),
    ("LH-KS-45", "Kissenbezug Leinen 45 x 45 cm, 2 Stück", 2490),
    ("LH-LA-06", "Tischleuchte Keramik mit Leinenschirm", 5490),
    ("LH-KZ-3", "Duftkerzen Sojawachs 3er-Set", 2190),
    ("LH-WB-M", "Wäschekorb Seegras, mittel", 3590),
    ("LH-KB-30", "Kräutertopf-Set 3-teilig mit Untersetzer", 2490),
    ("LH-GK-5", "Gießkanne Zink 5 l", 2990),
    ("LH-PB-2", "Pflanzenbank Holz, zweistufig", 4990),
    ("LH-VT-GL", "Vase mundgeblasen, rauchgrau", 3190),
    ("LH-HT-7", "Handtuch-Set Bio-Baumwolle, 7-teilig", 5990),
    ("LH-BM-60", "Badematte Baumwolle 60 x 90 cm", 1990),
    ("LH-SP-DS", "Seifenspender Keramik mit Edelstahlpumpe", 1690),
    ("LH-AB-35", "Aufbewahrungsbox Filz 35 cm, 2er-Set", 2290),
    ("LH-KL-WA", "Kleiderbügel Holz 20 Stück", 2490),
    ("LH-TK-01", "Teekanne Gusseisen 0,8 l mit Sieb", 3990),
    ("LH-BB-12", "Backblech-Set 2-teilig, antihaft", 2190),
    ("LH-NU-30", "Nudelholz Buche 30 cm", 1290),
    ("LH-WW-2", "Wärmflasche mit Strickbezug", 1890),
    ("LH-SZ-L", "Schürze Leinen, anthrazit", 2490),
    ("LH-LU-BO", "Lunchbox Edelstahl mit 3 Fächern", 2790),
    ("LH-ES-16", "Essteller Steingut 4er-Set, 26 cm", 3990),
    ("LH-TA-6", "Trinkgläser 6er-Set, 350 ml", 2490),
    ("LH-KO-20", "Kochtopf Edelstahl 20 cm mit Glasdeckel", 4490),
)

FIRST_NAMES_F = ("Anna", "Sabine", "Petra", "Julia", "Katharina", "Monika", "Laura", "Sophie", "Ayşe", "Magdalena",
                 "Claudia", "Ursula", "Lea", "Emily", "Birgit", "Heike", "Nina", "Elena", "Fatma", "Marie")
FIRST_NAMES_M = ("Thomas", "Michael", "Andreas", "Stefan", "Jonas", "Lukas", "Klaus", "Mehmet", "Piotr", "Jürgen",
                 "Felix", "Maximilian", "Uwe", "Dieter", "Tim", "Sebastian", "Ali", "Marco", "Wolfgang", "Paul")
LAST_NAMES = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
              "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Braun", "Zimmermann", "Krüger",
              "Hartmann", "Lange", "Werner", "Krause", "Lehmann", "Köhler", "Yılmaz", "Kaya", "Nowak", "Kowalski",
              "Maier", "Huber", "Vogel", "Friedrich", "Günther", "Weiß", "Roth", "Sommer", "Brandt", "Haas")
CITIES = (("10115", "Berlin"), ("20095", "Hamburg"), ("80331", "München"), ("50667", "Köln"),
          ("60311", "Frankfurt am Main"), ("70173", "Stuttgart"), ("40213", "Düsseldorf"), ("04109", "Leipzig"),
          ("44135", "Dortmund"), ("45127", "Essen"), ("28195", "Bremen"), ("01067", "Dresden"),
          ("30159", "Hannover"), ("90402", "Nürnberg"), ("47051", "Duisburg"), ("44787", "Bochum"),
          ("42103", "Wuppertal"), ("33602", "Bielefeld"), ("53111", "Bonn"), ("48143", "Münster"),
          ("76133", "Karlsruhe"), ("68159", "Mannheim"), ("86150", "Augsburg"), ("65183", "Wiesbaden"),
          ("24103", "Kiel"), ("18055", "Rostock"), ("99084", "Erfurt"), ("14467", "Potsdam"),
          ("79098", "Freiburg im Breisgau"), ("93047", "Regensburg"))
STREETS = ("Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße",
           "Birkenweg", "Lindenstraße", "Kirchstraße", "Waldstraße", "Ringstraße", "Mühlenweg", "Am Sportplatz")

GREETINGS = ("Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,", "Hallo zusammen,", "Moin,", "Hi,",
             "Guten Morgen,", "Hallo Lindenhof-Team,", "", "Liebes Team,")
CLOSINGS = ("Viele Grüße", "Mit freundlichen Grüßen", "LG", "Danke und Gruß", "Beste Grüße", "Gruß",
            "Vielen Dank im Voraus!", "MfG", "Schöne Grüße", "")
SIGNATURE_EXTRAS = ("", "", "", "\n\nGesendet von meinem iPhone", "\n\nVon meinem Samsung Galaxy gesendet",
                    "\n\n--\nTel. 0171 2345678", "")

# intent -> subjects, bodies, follow-ups (buyer's second message), seller replies
INTENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "wismo": {
        "subjects": ("Wo bleibt meine Bestellung?", "Bestellung {order} noch nicht angekommen",
                     "Lieferstatus Bestellung {order}", "Paket nicht erhalten", "Wann kommt meine Lieferung?",
                     "Sendungsverfolgung funktioniert nicht"),
        "bodies": (
            "ich habe am {date} die {product} bestellt (Bestellnummer {order}) und bis heute nichts erhalten. "
            "Können Sie mir sagen, wo das Paket gerade ist?",
            "meine Bestellung {order} ist seit {days} Tagen unterwegs, die Sendungsverfolgung zeigt aber seit "
            "Tagen keinen neuen Status. Ist das Paket verloren gegangen?",
            "wann wird die {product} geliefert? Laut Bestellbestätigung sollte sie schon da sein.",
            "Bestellung {order}. Paket laut DHL zugestellt, ist aber nicht bei mir angekommen. Auch nicht bei den "
            "Nachbarn. Was nun?",
            "ich brauche die {product} dringend als Geschenk zum Wochenende. Kommt das noch rechtzeitig an?",
            "hallo? ich warte jetzt schon {days} tage auf meine bestellung {order}. bitte um rückmeldung",
        ),
        "followups": (
            "Danke für die schnelle Antwort. Die Sendungsnummer zeigt aber immer noch nichts an.",
            "Leider ist immer noch nichts angekommen. Können Sie bitte nachforschen lassen?",
            "Das Paket ist heute gekommen, danke!",
            "Ich habe jetzt schon zweimal geschrieben. Wenn bis Freitag nichts kommt, möchte ich mein Geld zurück.",
        ),
        "replies": (
            "vielen Dank für Ihre Nachricht. Ihre Bestellung {order} wurde am {date} an DHL übergeben. "
            "Die Sendung ist laut Tracking im Zustellzentrum {city} angekommen und sollte in 1-2 Werktagen bei "
            "Ihnen sein.",
            "danke für Ihre Geduld. Wir haben einen Nachforschungsauftrag bei DHL gestellt und melden uns, "
            "sobald wir eine Rückmeldung haben.",
        ),
    },
    "return": {
        "subjects": ("Rücksendung {order}", "Artikel zurückschicken", "Retoure – wie geht das?",
                     "Umtausch gewünscht", "Widerruf Bestellung {order}"),
        "bodies": (
            "ich möchte die {product} zurückschicken, sie passt leider nicht zu unserer Küche. "
            "Wie läuft die Rücksendung ab? Bekomme ich ein Retourenlabel?",
            "hiermit widerrufe ich den Kauf der {product} aus Bestellung {order}. Bitte senden Sie mir ein "
            "Rücksendeetikett.",
            "Kann ich die {product} gegen eine andere Farbe umtauschen? Die Farbe sieht in echt ganz anders aus als "
            "auf dem Foto.",
            "Artikel gefällt mir nicht, wie kann ich ihn zurück senden?? Bestellnr {order}",
            "ich habe die Rücksendung vor {days} Tagen abgeschickt, aber noch kein Geld zurückbekommen. "
            "Wann wird erstattet?",
        ),
        "followups": (
            "Paket ist heute zurückgegangen, die Sendungsnummer ist 00340434161234567890.",
            "Danke, das Etikett habe ich bekommen.",
            "Wie lange dauert die Erstattung normalerweise?",
        ),
        "replies": (
            "gerne können Sie die {product} innerhalb von 30 Tagen zurücksenden. Das Retourenlabel finden Sie im "
            "Anhang. Nach Eingang erstatten wir den Betrag innerhalb von 3-5 Werktagen.",
            "Ihre Rücksendung ist bei uns eingegangen, die Erstattung über {total} ist veranlasst.",
        ),
    },
    "damaged": {
        "subjects": ("Ware beschädigt angekommen", "Defekt: {product}", "Reklamation Bestellung {order}",
                     "Kaputt geliefert!!", "Glas gesprungen"),
        "bodies": (
            "leider ist die {product} beschädigt bei mir angekommen. Der Karton war schon eingedrückt und innen ist "
            "eine Ecke abgebrochen. Fotos kann ich gerne schicken.",
            "die {product} funktioniert nach {days} Tagen nicht mehr. Ich hätte gerne Ersatz oder mein Geld zurück.",
            "Das Paket kam heute, und eines der Gläser war zerbrochen. Überall Scherben im Karton. Sehr ärgerlich, "
            "da es ein Geschenk sein sollte.",
            "Die Beschichtung der {product} löst sich schon nach zweimal benutzen. Das kann doch nicht normal sein?",
        ),
        "followups": (
            "Hier die Fotos wie gewünscht.",
            "Ersatz wäre mir lieber als Geld zurück.",
            "Muss ich die kaputte Ware zurückschicken oder kann ich sie entsorgen?",
        ),
        "replies": (
            "das tut uns sehr leid! Bitte schicken Sie uns ein oder zwei Fotos des Schadens, dann senden wir "
            "Ihnen umgehend Ersatz zu.",
            "danke für die Fotos. Ersatz ist heute rausgegangen, die beschädigte Ware müssen Sie nicht "
            "zurückschicken.",
        ),
    },
    "invoice": {
        "subjects": ("Rechnung benötigt", "Rechnung für Bestellung {order}", "Bitte Rechnung mit MwSt.",
                     "Rechnungsadresse ändern"),
        "bodies": (
            "können Sie mir bitte eine Rechnung für die Bestellung {order} schicken? Ich brauche sie für meine "
            "Buchhaltung.",
            "ich benötige eine Rechnung mit ausgewiesener Mehrwertsteuer auf meine Firma (Praxis Dr. {last_name}, "
            "{street}, {postcode} {city}).",
            "Rechnung bitte per Mail. Danke",
        ),
        "followups": ("Danke, angekommen.", "Die Adresse auf der Rechnung stimmt leider nicht, bitte korrigieren."),
        "replies": ("anbei erhalten Sie die Rechnung zu Ihrer Bestellung {order}.",),
    },
    "address": {
        "subjects": ("Adresse ändern", "Falsche Lieferadresse!", "Lieferadresse Bestellung {order}"),
        "bodies": (
            "ich habe mich bei der Adresse vertippt. Richtig ist: {street}, {postcode} {city}. Können Sie das "
            "noch ändern, bevor das Paket rausgeht?",
            "Bitte die Bestellung {order} an meine Arbeitsadresse liefern statt nach Hause, ich bin tagsüber nicht da.",
            "Kann ich das Paket an eine Packstation schicken lassen? Packstation 112, {postcode} {city}",
        ),
        "followups": ("Ist die Änderung noch durchgegangen?",),
        "replies": ("wir haben die Lieferadresse für die Bestellung {order} geändert.",),
    },
    "product": {
        "subjects": ("Frage zu {product}", "Ist die {product} spülmaschinenfest?", "Maße?", "Frage zum Artikel",
                     "Wieder lieferbar?"),
        "bodies": (
            "ist die {product} spülmaschinenfest? In der Beschreibung steht dazu nichts.",
            "Welche Maße hat die {product} genau? Ich möchte wissen ob sie in mein Regal passt (32 cm tief).",
            "Funktioniert die {product} auch auf Induktion?",
            "wann ist die {product} wieder lieferbar? Würde gleich drei Stück nehmen.",
            "Gibt es die {product} auch in einer anderen Farbe, z.B. dunkelblau?",
        ),
        "followups": ("Super, danke für die Info!", "Und wie sieht es mit der Lieferzeit aus?"),
        "replies": ("danke für Ihr Interesse! Die {product} ist spülmaschinengeeignet und für alle Herdarten "
                    "einschließlich Induktion geeignet.",),
    },
    "cancel": {
        "subjects": ("Stornierung", "Bestellung stornieren {order}", "Bitte stornieren!", "Doppelt bestellt"),
        "bodies": (
            "bitte stornieren Sie meine Bestellung {order}, ich habe mich leider verklickt.",
            "Ich habe aus Versehen zweimal bestellt. Bitte eine der beiden Bestellungen stornieren.",
            "Die Lieferzeit ist mir zu lang geworden, ich möchte die Bestellung {order} stornieren.",
        ),
        "followups": ("Ist die Stornierung durch? Das Geld wurde schon abgebucht.",),
        "replies": ("Ihre Bestellung {order} wurde storniert. Der Betrag wird innerhalb weniger Tage erstattet.",),
    },
    "gdpr": {
        "subjects": ("Auskunft nach Art. 15 DSGVO", "Löschung meiner Daten", "Datenschutzanfrage"),
        "bodies": (
            "hiermit verlange ich gemäß Art. 15 DSGVO Auskunft über alle zu meiner Person gespeicherten Daten.",
            "bitte löschen Sie alle meine Daten gemäß Art. 17 DSGVO und bestätigen Sie mir die Löschung schriftlich.",
        ),
        "followups": ("Ich warte noch auf eine Bestätigung meiner Anfrage.",),
        "replies": ("wir haben Ihre Anfrage erhalten und beantworten sie innerhalb eines Monats.",),
    },
    "wismo_en": {
        "subjects": ("Where is my order?", "Order {order} not received", "Delivery status"),
        "bodies": (
            "I ordered the {product} on {date} and it still hasn't arrived. Could you please check the status? "
            "I'm only in Germany for another week.",
            "Tracking says delivered but I didn't get anything. Order {order}.",
        ),
        "followups": ("Thanks, still nothing though.", "It arrived today, thank you!"),
        "replies": ("thank you for your message. Your order {order} was handed to DHL on {date} and should "
                    "arrive within 1-2 working days.",),
    },
    "return_en": {
        "subjects": ("Return request", "How do I return an item?"),
        "bodies": ("I'd like to return the {product}, it's smaller than I expected. How do I do that?",),
        "followups": ("Got the label, thanks.",),
        "replies": ("you can return the {product} within 30 days; the return label is attached.",),
    },
}

# How often each intent appears (weights), and which intents are possible without an order.
INTENT_WEIGHTS: dict[str, int] = {
    "wismo": 30, "return": 18, "damaged": 12, "invoice": 8, "address": 6, "product": 12, "cancel": 7,
    "gdpr": 2, "wismo_en": 4, "return_en": 2,
}
ORDERLESS_INTENTS = frozenset({"product"})

DM_OPENERS = ("Hi 👋 ", "Hallo! ", "Hey, ", "", "Huhu, ")
QUOTE_HEADERS = (
    "Am {date} um {time} schrieb {shop} <service@lindenhof-haushalt.de>:",
    "-----Ursprüngliche Nachricht-----\nVon: {shop} <service@lindenhof-haushalt.de>\nGesendet: {date} {time}",
    "On {date} at {time}, {shop} wrote:",
)
