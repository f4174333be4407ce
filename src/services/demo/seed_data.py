"""The vocabulary of the demo data set: municipalities, teams, SLA policies, names, report texts.

Plain data, so the loader (seed_service.py) reads as the procedure it is.
"""

# code, name, province, centre (longitude, latitude), wards
MUNICIPALITIES = [
    ("TSH", "City of Tshwane", "Gauteng", (28.19, -25.75), 60),
    ("JHB", "City of Johannesburg", "Gauteng", (28.05, -26.20), 50),
    ("CPT", "City of Cape Town", "Western Cape", (18.47, -33.95), 48),
    ("ETH", "eThekwini", "KwaZulu-Natal", (30.98, -29.85), 44),
    ("EKU", "City of Ekurhuleni", "Gauteng", (28.30, -26.15), 40),
    ("NMA", "Nelson Mandela Bay", "Eastern Cape", (25.55, -33.90), 30),
    ("BUF", "Buffalo City", "Eastern Cape", (27.85, -32.95), 28),
    ("MAN", "Mangaung", "Free State", (26.20, -29.12), 26),
]
# Share of the tickets after TSH's half, in the order above (the rest by equal parts).
OTHER_SHARES = [0.30, 0.20, 0.15, 0.12, 0.10, 0.08, 0.05]
WARD_SIZE = 0.04  # degrees: a ward is a square cell of a grid around the centre

CATEGORY_WEIGHTS = {
    "water": 27,
    "electricity": 22,
    "roads": 19,
    "waste": 14,
    "sanitation": 9,
    "other": 7,
    "gbv": 2,
}
SEVERITY_WEIGHTS = {"low": 25, "medium": 45, "high": 22, "critical": 8}
LANGUAGE_WEIGHTS = {"en": 78, "zu": 14, "af": 8}

# Regional teams split the wards in three bands; the others serve the whole municipality.
REGIONAL = ("water", "electricity", "roads")
REGIONS = ("North", "Central", "South")
MUNICIPAL_TEAMS = {"waste": "Waste Management", "sanitation": "Sanitation Services", "other": "Community Services"}
SAPS_TEAM = "SAPS GBV Desk"

# (category, severity, response hours, resolution hours); None = any. Most specific wins.
SLA_POLICIES = [
    (None, None, 24, 168),
    ("water", None, 8, 72),
    ("electricity", None, 8, 48),
    ("roads", None, 48, 336),
    ("waste", None, 24, 96),
    ("sanitation", None, 12, 72),
    ("other", None, 48, 240),
    ("gbv", None, 1, 24),
    (None, "critical", 2, 24),
    ("water", "critical", 1, 12),
    ("electricity", "critical", 1, 8),
    ("roads", "high", 24, 168),
]

# The demo runs low and medium severities on business hours (the same hours as the category's
# policy), everything else on the wall clock; GBV always on the wall clock.
BUSINESS_SEVERITIES = ("low", "medium")


def sla_policies_with_clocks() -> list[tuple[str | None, str | None, float, float, str]]:
    out: list[tuple[str | None, str | None, float, float, str]] = []
    for category, severity, response, resolution in SLA_POLICIES:
        out.append((category, severity, response, resolution, "24x7"))
        if severity is None and category != "gbv":
            out += [(category, s, response, resolution, "business") for s in BUSINESS_SEVERITIES]
    return out


FIRST_NAMES = [
    "Thandi",
    "Sipho",
    "Lerato",
    "Johan",
    "Ayesha",
    "Bongani",
    "Naledi",
    "Pieter",
    "Zanele",
    "Themba",
    "Nomvula",
    "Kagiso",
    "Precious",
    "Ruan",
    "Fatima",
    "Mandla",
    "Palesa",
    "Lindiwe",
    "Tshepo",
    "Anele",
    "Karabo",
    "Nandi",
    "Sibusiso",
    "Marelize",
    "Refilwe",
    "Xolani",
    "Busisiwe",
    "Dineo",
    "Riaan",
    "Nosipho",
]
LAST_NAMES = [
    "Nkosi",
    "Dlamini",
    "Mokoena",
    "van der Merwe",
    "Naidoo",
    "Khumalo",
    "Botha",
    "Mahlangu",
    "Pillay",
    "Ndlovu",
    "Molefe",
    "Sithole",
    "Pretorius",
    "Mthembu",
    "Zulu",
    "Radebe",
    "Jacobs",
    "Maseko",
    "Petersen",
    "Shabalala",
    "Coetzee",
    "Ngcobo",
    "Baloyi",
    "Govender",
    "Mabuza",
    "Venter",
    "Ntuli",
]
STREETS = [
    "Church Street",
    "Nelson Mandela Drive",
    "Jacaranda Avenue",
    "Voortrekker Road",
    "Main Road",
    "Steve Biko Road",
    "Madiba Street",
    "Pretorius Street",
    "Jan Smuts Avenue",
    "Oliver Tambo Drive",
    "Station Road",
    "Park Street",
    "Beyers Naude Drive",
    "Lilian Ngoyi Street",
    "Ruth First Avenue",
    "Chris Hani Road",
    "Albertina Sisulu Road",
    "Solomon Mahlangu Drive",
    "Walter Sisulu Street",
    "Kingsway Avenue",
    "Market Street",
    "Long Street",
    "Victoria Road",
    "Umgeni Road",
    "Govan Mbeki Avenue",
    "Bree Street",
    "Jorissen Street",
    "Hendrik Potgieter Road",
    "Malibongwe Drive",
    "Rivonia Road",
    "Florence Ribeiro Avenue",
    "Stanza Bopape Street",
    "Francis Baard Street",
    "Es'kia Mphahlele Drive",
    "Charlotte Maxeke Street",
    "Cowey Road",
    "Old Main Road",
    "Klipfontein Road",
]
SUBURBS = {
    "TSH": [
        "Mamelodi",
        "Soshanguve",
        "Atteridgeville",
        "Hatfield",
        "Sunnyside",
        "Arcadia",
        "Centurion",
        "Ga-Rankuwa",
        "Eersterust",
        "Laudium",
        "Olievenhoutbosch",
        "Pretoria West",
    ],
    "JHB": ["Soweto", "Alexandra", "Randburg", "Diepsloot", "Orange Farm", "Hillbrow", "Yeoville", "Roodepoort"],
    "CPT": ["Khayelitsha", "Mitchells Plain", "Gugulethu", "Bellville", "Athlone", "Delft", "Langa", "Woodstock"],
    "ETH": ["Umlazi", "KwaMashu", "Chatsworth", "Phoenix", "Inanda", "Pinetown", "Clermont", "Berea"],
    "EKU": ["Tembisa", "Katlehong", "Thokoza", "Daveyton", "Benoni", "Germiston", "Kempton Park", "Vosloorus"],
    "NMA": ["Motherwell", "New Brighton", "KwaZakhele", "Uitenhage", "Bethelsdorp", "Summerstrand", "Walmer"],
    "BUF": ["Mdantsane", "Duncan Village", "Zwelitsha", "King William's Town", "Beacon Bay", "Southernwood"],
    "MAN": ["Botshabelo", "Thaba Nchu", "Mangaung", "Heidedal", "Bloemspruit", "Universitas", "Westdene"],
}
DEFAULT_SUBURBS = ["Central", "Extension 1", "Extension 2", "Riverside", "Hillview", "Township", "Industrial Area"]
LANDMARKS = [
    "the clinic",
    "the primary school",
    "the taxi rank",
    "the library",
    "the community hall",
    "the shopping centre",
    "the police station",
    "the church",
    "the sports field",
    "the train station",
    "the old age home",
    "the creche",
]
WHEN = ["yesterday", "this morning", "last night", "two days ago", "the weekend", "Monday", "last week"]

TEMPLATES = {
    "water": [
        "Burst pipe on {street}, water running down the road since {when}",
        "No water supply in {suburb} since {when}",
        "Leaking water meter outside {number} {street}",
        "Low water pressure in {suburb}, taps only trickle in the evening",
        "Water leak near {landmark} on {street}",
        "Brown water coming from the taps in {suburb}",
        "Fire hydrant leaking on {street} near {landmark}",
    ],
    "electricity": [
        "Power outage in {suburb} since {when}",
        "Streetlight not working on {street} near {landmark}",
        "Exposed electrical cables near {landmark}",
        "Transformer sparking on {street}",
        "Prepaid meter not accepting tokens at {number} {street}",
        "Illegal connections on {street} causing outages in {suburb}",
    ],
    "roads": [
        "Pothole on {street} near {landmark}",
        "Traffic light not working at {street} and {street2}",
        "Damaged road sign on {street}",
        "Blocked stormwater drain on {street}, road floods when it rains",
        "Sinkhole forming on {street} in {suburb}",
        "Large pothole damaging cars on {street} since {when}",
    ],
    "waste": [
        "Refuse not collected on {street} this week",
        "Illegal dumping near {landmark} in {suburb}",
        "Overflowing skip at {landmark}",
        "Dead animal on {street} needs removal",
        "Bins not returned after collection in {suburb}",
    ],
    "sanitation": [
        "Sewer overflowing on {street} near {landmark}",
        "Blocked drain at {number} {street}",
        "Bad smell from sewer manhole near {landmark}",
        "Portable toilets not serviced in {suburb} since {when}",
        "Sewage leaking into the street in {suburb}",
    ],
    "other": [
        "Overgrown grass in the park near {landmark}",
        "Stray dogs roaming in {suburb}",
        "Noise complaint about a tavern on {street}",
        "Broken playground equipment at the park near {landmark}",
        "Abandoned vehicle on {street} since {when}",
    ],
    "gbv": [
        "Report of domestic violence; the caller asks for a follow-up visit",
        "A neighbour reports ongoing abuse at a house in {suburb}",
        "A survivor asks for assistance and a safe way to be contacted",
        "Report of threats and intimidation by a partner",
        "A community worker reports a person at risk in {suburb}",
    ],
}
