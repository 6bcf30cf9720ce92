"""The world the demo draws from: origin countries, the corridors their workers follow, occupations
and wages. Plain data, shaped after the main labour-migration corridors (South Asia to the Gulf
and Malaysia, South-East Asia to East Asia and the Gulf, East Africa to the Gulf); the figures are
plausible, not statistics.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    code: str  # ISO 3166-1 alpha-2
    weight: float  # share of the demo's migrants
    currency: str
    usd_rate: float  # units of the currency per US dollar (recruitment fees are paid at home)
    regions: tuple[str, ...]
    female_names: tuple[str, ...]
    male_names: tuple[str, ...]
    family_names: tuple[str, ...]
    dial_code: str
    skills_body: str  # who certifies skills there
    destinations: dict[str, float]  # destination -> weight


@dataclass(frozen=True)
class Destination:
    currency: str
    usd_rate: float
    wage_factor: float  # wage level relative to Saudi Arabia for the same job
    cities: tuple[str, ...]


@dataclass(frozen=True)
class Occupation:
    code: str  # ISCO-08 unit group
    title: str
    weight: float
    base_wage_usd: int  # monthly, in the Gulf
    female_share: float


GULF = {"SA": 0.26, "AE": 0.24, "QA": 0.11, "KW": 0.10, "OM": 0.09, "BH": 0.04}

ORIGINS: tuple[Origin, ...] = (
    Origin(
        "IN",
        0.22,
        "INR",
        83.0,
        ("Kerala", "Uttar Pradesh", "Bihar", "Tamil Nadu", "Rajasthan", "Telangana", "Punjab", "West Bengal"),
        ("Anita", "Priya", "Lakshmi", "Deepa", "Sunita", "Fathima"),
        ("Ravi", "Suresh", "Mohammed", "Arjun", "Rajesh", "Salim"),
        ("Kumar", "Singh", "Nair", "Das", "Reddy", "Khan", "Yadav", "Pillai", "Sharma", "Ansari"),
        "+91",
        "National Skill Development Corporation",
        {**GULF, "MY": 0.07, "SG": 0.05},
    ),
    Origin(
        "BD",
        0.12,
        "BDT",
        110.0,
        ("Dhaka", "Chattogram", "Sylhet", "Khulna", "Rajshahi", "Rangpur", "Barishal", "Mymensingh"),
        ("Nasima", "Fatema", "Rubina", "Moyna", "Shirin"),
        ("Rahim", "Karim", "Jamal", "Shahid", "Habib"),
        ("Hossain", "Rahman", "Islam", "Akter", "Uddin", "Begum", "Mia", "Sarkar"),
        "+880",
        "Bureau of Manpower, Employment and Training",
        {"SA": 0.38, "OM": 0.14, "AE": 0.08, "QA": 0.08, "KW": 0.06, "BH": 0.03, "MY": 0.18, "SG": 0.05},
    ),
    Origin(
        "NP",
        0.11,
        "NPR",
        133.0,
        ("Koshi", "Madhesh", "Bagmati", "Gandaki", "Lumbini", "Karnali", "Sudurpashchim"),
        ("Sita", "Sunita", "Kamala", "Gita", "Sabina"),
        ("Ram", "Bikash", "Hari", "Dipak", "Suman"),
        ("Thapa", "Gurung", "Tamang", "Rai", "Shrestha", "Magar", "Yadav", "Limbu"),
        "+977",
        "Council for Technical Education and Vocational Training",
        {"MY": 0.30, "QA": 0.22, "SA": 0.16, "AE": 0.16, "KW": 0.08, "BH": 0.03, "OM": 0.03, "JP": 0.02},
    ),
    Origin(
        "PK",
        0.10,
        "PKR",
        280.0,
        ("Punjab", "Khyber Pakhtunkhwa", "Sindh", "Balochistan", "Azad Kashmir"),
        ("Ayesha", "Sana", "Nadia", "Rukhsana"),
        ("Imran", "Ali", "Bilal", "Usman", "Tariq"),
        ("Khan", "Ahmed", "Malik", "Butt", "Qureshi", "Chaudhry", "Raza", "Shah"),
        "+92",
        "National Vocational and Technical Training Commission",
        {"SA": 0.50, "AE": 0.30, "OM": 0.07, "QA": 0.05, "BH": 0.03, "KW": 0.03, "MY": 0.02},
    ),
    Origin(
        "LK",
        0.05,
        "LKR",
        300.0,
        ("Western", "Central", "Southern", "Northern", "Eastern", "North Western", "Uva", "Sabaragamuwa"),
        ("Kumari", "Dilani", "Nirosha", "Malini", "Chathurika"),
        ("Nimal", "Chaminda", "Sunil", "Pradeep", "Kasun"),
        ("Perera", "Fernando", "Silva", "Jayawardena", "Bandara", "Dissanayake", "Kumara", "Rajapaksa"),
        "+94",
        "Tertiary and Vocational Education Commission",
        {"KW": 0.24, "QA": 0.20, "SA": 0.18, "AE": 0.18, "OM": 0.08, "JO": 0.05, "MY": 0.07},
    ),
    Origin(
        "PH",
        0.12,
        "PHP",
        56.0,
        ("Ilocos", "Central Luzon", "Calabarzon", "Western Visayas", "Central Visayas", "Davao", "Bangsamoro"),
        ("Maria", "Jessa", "Ana", "Grace", "Jonalyn", "Lorna"),
        ("Jose", "Mark", "Rodel", "Jomar", "Ramon"),
        ("Santos", "Reyes", "Cruz", "Bautista", "Garcia", "Mendoza", "Villanueva", "Dela Cruz"),
        "+63",
        "Technical Education and Skills Development Authority",
        {"SA": 0.20, "AE": 0.16, "HK": 0.13, "SG": 0.10, "TW": 0.10, "KW": 0.08, "QA": 0.08, "JP": 0.05, "MY": 0.05},
    ),
    Origin(
        "ID",
        0.09,
        "IDR",
        15700.0,
        ("East Java", "Central Java", "West Java", "West Nusa Tenggara", "East Nusa Tenggara", "Lampung"),
        ("Siti", "Dewi", "Sri", "Nur", "Wati", "Ratna"),
        ("Agus", "Budi", "Eko", "Slamet", "Joko"),
        ("Wahyuni", "Saputra", "Hidayat", "Lestari", "Setiawan", "Rahayu", "Susanto", "Kurniawan"),
        "+62",
        "Badan Nasional Sertifikasi Profesi",
        {"MY": 0.35, "TW": 0.20, "HK": 0.18, "SA": 0.10, "SG": 0.08, "JP": 0.05, "KR": 0.04},
    ),
    Origin(
        "VN",
        0.05,
        "VND",
        25000.0,
        ("Nghe An", "Thanh Hoa", "Ha Tinh", "Bac Giang", "Hai Duong", "Thai Binh"),
        ("Lan", "Thu", "Huong", "Mai", "Linh"),
        ("Minh", "Hung", "Tuan", "Duc", "Quang"),
        ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui"),
        "+84",
        "Directorate of Vocational Education and Training",
        {"JP": 0.40, "TW": 0.40, "KR": 0.15, "SA": 0.03, "AE": 0.02},
    ),
    Origin(
        "MM",
        0.04,
        "MMK",
        2100.0,
        ("Mon", "Shan", "Bago", "Mandalay", "Ayeyarwady", "Kayin"),
        ("Thandar", "Su", "Hnin", "Ei", "Khin"),
        ("Aung", "Kyaw", "Min", "Zaw", "Thura"),
        ("Win", "Oo", "Htun", "Myint", "Aye", "Naing", "Lwin", "Soe"),
        "+95",
        "National Skills Standards Authority",
        {"TH": 0.60, "MY": 0.25, "SG": 0.08, "JP": 0.07},
    ),
    Origin(
        "ET",
        0.04,
        "ETB",
        57.0,
        ("Amhara", "Oromia", "Tigray", "Sidama", "Addis Ababa"),
        ("Tigist", "Almaz", "Meron", "Hiwot", "Selam", "Bethlehem"),
        ("Dawit", "Yonas", "Abebe", "Solomon"),
        ("Tesfaye", "Bekele", "Girma", "Haile", "Alemu", "Tadesse", "Kebede", "Mekonnen"),
        "+251",
        "Federal TVET Agency",
        {"SA": 0.60, "AE": 0.10, "KW": 0.10, "JO": 0.08, "LB": 0.07, "QA": 0.05},
    ),
    Origin(
        "KE",
        0.04,
        "KES",
        130.0,
        ("Nairobi", "Mombasa", "Kiambu", "Kakamega", "Nakuru", "Kisumu"),
        ("Wanjiru", "Achieng", "Njeri", "Akinyi", "Faith"),
        ("Otieno", "Kamau", "Kiptoo", "Mutua", "Brian"),
        ("Mwangi", "Odhiambo", "Njoroge", "Wambui", "Kariuki", "Chebet", "Ochieng", "Kimani"),
        "+254",
        "National Industrial Training Authority",
        {"SA": 0.55, "AE": 0.15, "QA": 0.12, "KW": 0.10, "OM": 0.08},
    ),
    Origin(
        "UG",
        0.02,
        "UGX",
        3750.0,
        ("Central", "Eastern", "Western", "Northern"),
        ("Nakato", "Namubiru", "Auma", "Nabirye", "Sarah"),
        ("Okello", "Mugisha", "Ssemakula", "Opio", "Joseph"),
        ("Nakimuli", "Ochen", "Kato", "Tumusiime", "Nansubuga", "Byaruhanga", "Akello", "Lubega"),
        "+256",
        "Directorate of Industrial Training",
        {"SA": 0.60, "AE": 0.15, "JO": 0.10, "OM": 0.15},
    ),
)

DESTINATIONS: dict[str, Destination] = {
    "SA": Destination("SAR", 3.75, 1.00, ("Riyadh", "Jeddah", "Dammam")),
    "AE": Destination("AED", 3.6725, 1.05, ("Dubai", "Abu Dhabi", "Sharjah")),
    "QA": Destination("QAR", 3.64, 1.10, ("Doha", "Al Wakrah")),
    "KW": Destination("KWD", 0.307, 1.00, ("Kuwait City", "Hawalli")),
    "OM": Destination("OMR", 0.385, 0.95, ("Muscat", "Sohar")),
    "BH": Destination("BHD", 0.376, 0.95, ("Manama", "Muharraq")),
    "MY": Destination("MYR", 4.5, 0.85, ("Kuala Lumpur", "Penang", "Johor Bahru")),
    "SG": Destination("SGD", 1.34, 1.40, ("Singapore",)),
    "HK": Destination("HKD", 7.8, 1.45, ("Kowloon", "Hong Kong Island")),
    "TW": Destination("TWD", 32.0, 1.45, ("Taichung", "Taoyuan", "Kaohsiung")),
    "JP": Destination("JPY", 150.0, 2.60, ("Osaka", "Nagoya", "Tokyo")),
    "KR": Destination("KRW", 1350.0, 2.70, ("Incheon", "Ansan")),
    "TH": Destination("THB", 35.0, 0.90, ("Bangkok", "Samut Sakhon", "Chiang Mai")),
    "JO": Destination("JOD", 0.709, 0.90, ("Amman", "Irbid")),
    "LB": Destination("USD", 1.0, 0.80, ("Beirut",)),  # domestic work there is paid in dollars
}

OCCUPATIONS: tuple[Occupation, ...] = (
    Occupation("9313", "building construction labourer", 0.17, 320, 0.02),
    Occupation("7112", "bricklayer", 0.09, 450, 0.01),
    Occupation("5322", "home-based personal care worker", 0.11, 440, 0.95),
    Occupation("9111", "domestic cleaner and helper", 0.12, 380, 0.92),
    Occupation("9112", "cleaner in offices and hotels", 0.09, 330, 0.45),
    Occupation("8322", "car and van driver", 0.09, 550, 0.01),
    Occupation("5120", "cook", 0.07, 500, 0.25),
    Occupation("7411", "building electrician", 0.06, 650, 0.01),
    Occupation("7126", "plumber", 0.04, 600, 0.01),
    Occupation("7212", "welder", 0.04, 650, 0.01),
    Occupation("5131", "waiter", 0.05, 420, 0.35),
    Occupation("3221", "nursing associate professional", 0.04, 1200, 0.85),
    Occupation("8332", "heavy truck driver", 0.03, 700, 0.0),
)

# Currencies with no minor unit, or three decimals (ISO 4217), so amounts look like real payslips.
DECIMALS = {"JPY": 0, "KRW": 0, "UGX": 0, "VND": 0, "IDR": 0, "KWD": 3, "OMR": 3, "BHD": 3, "JOD": 3}

EMPLOYER_STEMS = (
    "Al Noor",
    "Gulf Star",
    "Desert Rose",
    "Al Majd",
    "Falcon",
    "Oasis",
    "Crescent",
    "Pearl",
    "Summit",
    "Harbour",
    "Golden Palm",
    "Evergreen",
    "Lotus",
    "Meridian",
)
EMPLOYER_LINES = {
    "9313": "Contracting",
    "7112": "Construction",
    "7411": "Electromechanical",
    "7126": "Building Services",
    "7212": "Steel Fabrication",
    "8322": "Transport",
    "8332": "Logistics",
    "5120": "Catering",
    "5131": "Hospitality",
    "9112": "Facility Services",
    "3221": "Healthcare",
    "5322": "Household",
    "9111": "Household",
}
FEE_PURPOSES = (
    "recruitment service fee",
    "medical examination",
    "visa processing",
    "air ticket",
    "pre-departure training",
)
