"""Name pools and the handles, emails and logins derived from a name."""

from __future__ import annotations

import unicodedata

FIRST_NAMES = (
    "Priya", "Sam", "José", "Zoë", "Thảo", "Aiden", "Maya", "Diego", "Lena", "Marcus",
    "Aaliyah", "Kenji", "Sofia", "Ethan", "Chloé", "Omar", "Hannah", "Rafael", "Ngozi", "Liam",
    "Isabel", "Kai", "Fatima", "Noah", "Anaïs", "Mateo", "Leilani", "Ravi", "Grace", "Dmitri",
    "Camila", "Tyler", "Mei", "Jonah", "Björn", "Amara", "Lucas", "Renée", "Arjun", "Elena",
    "Malik", "Yuki", "Gabriel", "Nadia", "Connor", "Ximena", "Tariq", "Olivia", "Dũng", "Keanu",
    "Saanvi", "Ben", "Lucía", "Emeka", "Hiro", "Ava", "Joaquín", "Ingrid", "Daniel", "Farah",
    "Wei", "Rosa", "Jamal", "Sienna", "Luka", "Anya", "Mohammed", "Claire", "Andrés", "Iris",
    "Nikhil", "Talia", "Owen", "Søren", "Esther", "Kofi", "Mariana", "Ryan", "Łukasz", "Nina",
)  # fmt: skip

LAST_NAMES = (
    "Raman", "Lee", "García", "Nguyễn", "Patel", "Okafor", "Kim", "Martínez", "Chen", "Johnson",
    "Kahananui", "Williams", "Tanaka", "Hernández", "Schmidt", "Ali", "O'Brien", "Rossi",
    "Singh", "Dubois", "Kowalski", "Brown", "Yamamoto", "López", "Haddad", "Nakamura", "Silva",
    "Müller", "Cohen", "Park", "Rivera", "Andersen", "Mensah", "Davis", "Ramírez", "Iyer",
    "Wong", "Fischer", "Kealoha", "Novak", "Torres", "Sato", "Begay", "Morales", "Walker",
    "Adeyemi", "Huang", "Ortiz", "Bianchi", "Lindqvist", "Castillo", "Reyes", "Gupta", "Hall",
    "Petrović", "Tran", "Yilmaz", "Moreau", "Clarke", "Acosta", "Kapoor", "Vargas", "Ito",
    "Jensen", "Zhang", "Ibrahim", "Baker", "Sánchez", "Flores", "Mahoe",
)  # fmt: skip

FACULTY_TITLES = ("Dr.", "Prof.")

# Letters that NFKD does not decompose into ASCII plus a combining mark.
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "Đ": "D",
                       "æ": "ae", "Æ": "AE", "'": "", "ʻ": ""})  # fmt: skip


def ascii_fold(text: str) -> str:
    """``Nguyễn`` -> ``Nguyen``: for emails, handles and logins, which are ASCII."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in decomposed if ord(ch) < 128)


def slug(text: str) -> str:
    return "".join(ch for ch in ascii_fold(text).lower() if ch.isalnum())
