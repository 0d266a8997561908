"""Rekognition-style label names, parents, aliases and categories for what the models detect.

COCO's 80 classes are renamed to Rekognition's vocabulary; each label's parents are themselves
labels here (DetectLabels reports parents as labels too), each with its category.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ANIMALS = "Animals and Pets"
APPAREL = "Apparel and Accessories"
FOOD = "Food and Beverage"
FURNITURE = "Furniture and Furnishings"
HOME = "Home and Indoors"
KITCHEN = "Kitchen and Dining"
OBJECTS = "Everyday Objects"
PERSON = "Person Description"
PLANTS = "Plants and Flowers"
SAFETY = "Public Safety"
SPORTS = "Sports"
SYMBOLS = "Symbols and Flags"
TECH = "Technology and Computing"
TEXT = "Text and Documents"
TOOLS = "Tools and Machinery"
BEAUTY = "Beauty and Personal Care"
TRAVEL = "Travel and Adventure"
HOBBIES = "Hobbies and Interests"
VEHICLES = "Vehicles and Automotive"


@dataclass(frozen=True)
class LabelInfo:
    category: str
    parents: tuple[str, ...] = ()
    aliases: tuple[str, ...] = field(default=())


def _l(category: str, *parents: str, aliases: tuple[str, ...] = ()) -> LabelInfo:
    return LabelInfo(category=category, parents=tuple(parents), aliases=aliases)


LABELS: dict[str, LabelInfo] = {
    # people
    "Person": _l(PERSON, aliases=("Human",)),
    "Face": _l(PERSON, "Head", "Person"),
    "Head": _l(PERSON, "Person"),
    # parents
    "Animal": _l(ANIMALS),
    "Mammal": _l(ANIMALS, "Animal"),
    "Pet": _l(ANIMALS, "Animal"),
    "Canine": _l(ANIMALS, "Animal", "Mammal"),
    "Wildlife": _l(ANIMALS, "Animal"),
    "Livestock": _l(ANIMALS, "Animal"),
    "Transportation": _l(VEHICLES),
    "Vehicle": _l(VEHICLES, "Transportation"),
    "Aircraft": _l(VEHICLES, "Transportation", "Vehicle"),
    "Watercraft": _l(VEHICLES, "Transportation", "Vehicle"),
    "Furniture": _l(FURNITURE),
    "Table": _l(FURNITURE, "Furniture"),
    "Food": _l(FOOD),
    "Fruit": _l(FOOD, "Food", "Plant", "Produce"),
    "Vegetable": _l(FOOD, "Food", "Plant", "Produce"),
    "Produce": _l(FOOD, "Food"),
    "Dessert": _l(FOOD, "Food"),
    "Plant": _l(PLANTS),
    "Electronics": _l(TECH),
    "Computer": _l(TECH, "Electronics"),
    "Computer Hardware": _l(TECH, "Electronics", "Hardware"),
    "Hardware": _l(TECH, "Electronics"),
    "Appliance": _l(HOME, "Device"),
    "Device": _l(TOOLS),
    "Accessories": _l(APPAREL),
    "Bag": _l(APPAREL, "Accessories"),
    "Clothing": _l(APPAREL),
    "Cutlery": _l(KITCHEN),
    "Sport": _l(SPORTS),
    "Toy": _l(HOBBIES),
    "Sign": _l(SYMBOLS, "Symbol"),
    "Symbol": _l(SYMBOLS),
    "Light": _l(HOME),
    "Publication": _l(TEXT),
    "Phone": _l(TECH, "Electronics"),
    # COCO classes (renamed where Rekognition's vocabulary differs)
    "Bicycle": _l(VEHICLES, "Transportation", "Vehicle"),
    "Car": _l(VEHICLES, "Transportation", "Vehicle", aliases=("Automobile",)),
    "Motorcycle": _l(VEHICLES, "Transportation", "Vehicle"),
    "Airplane": _l(VEHICLES, "Aircraft", "Transportation", "Vehicle", aliases=("Aeroplane",)),
    "Bus": _l(VEHICLES, "Transportation", "Vehicle"),
    "Train": _l(VEHICLES, "Transportation", "Vehicle"),
    "Truck": _l(VEHICLES, "Transportation", "Vehicle"),
    "Boat": _l(VEHICLES, "Transportation", "Vehicle", "Watercraft"),
    "Traffic Light": _l(SAFETY, "Light"),
    "Fire Hydrant": _l(SAFETY, aliases=("Hydrant",)),
    "Stop Sign": _l(SYMBOLS, "Sign", "Symbol"),
    "Parking Meter": _l(OBJECTS),
    "Bench": _l(FURNITURE, "Furniture"),
    "Bird": _l(ANIMALS, "Animal"),
    "Cat": _l(ANIMALS, "Animal", "Mammal", "Pet"),
    "Dog": _l(ANIMALS, "Animal", "Canine", "Mammal", "Pet"),
    "Horse": _l(ANIMALS, "Animal", "Mammal"),
    "Sheep": _l(ANIMALS, "Animal", "Livestock", "Mammal"),
    "Cow": _l(ANIMALS, "Animal", "Livestock", "Mammal", aliases=("Cattle",)),
    "Elephant": _l(ANIMALS, "Animal", "Mammal", "Wildlife"),
    "Bear": _l(ANIMALS, "Animal", "Mammal", "Wildlife"),
    "Zebra": _l(ANIMALS, "Animal", "Mammal", "Wildlife"),
    "Giraffe": _l(ANIMALS, "Animal", "Mammal", "Wildlife"),
    "Backpack": _l(APPAREL, "Accessories", "Bag"),
    "Umbrella": _l(APPAREL, "Accessories"),
    "Handbag": _l(APPAREL, "Accessories", "Bag", aliases=("Purse",)),
    "Tie": _l(APPAREL, "Accessories", "Clothing", aliases=("Necktie",)),
    "Suitcase": _l(TRAVEL, "Bag", aliases=("Luggage",)),
    "Frisbee": _l(SPORTS, "Toy"),
    "Ski": _l(SPORTS, "Sport"),
    "Snowboard": _l(SPORTS, "Sport"),
    "Ball": _l(SPORTS, "Sport"),
    "Kite": _l(HOBBIES, "Toy"),
    "Baseball Bat": _l(SPORTS, "Sport"),
    "Baseball Glove": _l(SPORTS, "Sport"),
    "Skateboard": _l(SPORTS, "Sport"),
    "Surfboard": _l(SPORTS, "Sport"),
    "Racket": _l(SPORTS, "Sport", aliases=("Tennis Racket",)),
    "Bottle": _l(KITCHEN),
    "Wine Glass": _l(KITCHEN, aliases=("Glass",)),
    "Cup": _l(KITCHEN),
    "Fork": _l(KITCHEN, "Cutlery"),
    "Knife": _l(KITCHEN, "Cutlery"),
    "Spoon": _l(KITCHEN, "Cutlery"),
    "Bowl": _l(KITCHEN),
    "Banana": _l(FOOD, "Food", "Fruit", "Plant", "Produce"),
    "Apple": _l(FOOD, "Food", "Fruit", "Plant", "Produce"),
    "Sandwich": _l(FOOD, "Food"),
    "Orange": _l(FOOD, "Food", "Fruit", "Plant", "Produce"),
    "Broccoli": _l(FOOD, "Food", "Plant", "Produce", "Vegetable"),
    "Carrot": _l(FOOD, "Food", "Plant", "Produce", "Vegetable"),
    "Hot Dog": _l(FOOD, "Food"),
    "Pizza": _l(FOOD, "Food"),
    "Donut": _l(FOOD, "Dessert", "Food", aliases=("Doughnut",)),
    "Cake": _l(FOOD, "Dessert", "Food"),
    "Chair": _l(FURNITURE, "Furniture"),
    "Couch": _l(FURNITURE, "Furniture", aliases=("Sofa",)),
    "Potted Plant": _l(PLANTS, "Plant", aliases=("Houseplant",)),
    "Bed": _l(FURNITURE, "Furniture"),
    "Dining Table": _l(FURNITURE, "Furniture", "Table"),
    "Toilet": _l(HOME),
    "TV": _l(TECH, "Electronics", aliases=("Television",)),
    "Laptop": _l(TECH, "Computer", "Electronics", aliases=("Pc",)),
    "Mouse": _l(TECH, "Computer Hardware", "Electronics", "Hardware"),
    "Remote Control": _l(TECH, "Electronics"),
    "Computer Keyboard": _l(TECH, "Computer Hardware", "Electronics", "Hardware"),
    "Mobile Phone": _l(TECH, "Electronics", "Phone", aliases=("Cell Phone",)),
    "Microwave": _l(HOME, "Appliance", "Device"),
    "Oven": _l(HOME, "Appliance", "Device"),
    "Toaster": _l(HOME, "Appliance", "Device"),
    "Sink": _l(HOME),
    "Refrigerator": _l(HOME, "Appliance", "Device", aliases=("Fridge",)),
    "Book": _l(TEXT, "Publication"),
    "Clock": _l(OBJECTS),
    "Vase": _l(HOME),
    "Scissors": _l(TOOLS),
    "Teddy Bear": _l(HOBBIES, "Toy"),
    "Hair Dryer": _l(BEAUTY, "Appliance", "Device", aliases=("Blow Dryer",)),
    "Toothbrush": _l(BEAUTY),
}

COCO_TO_LABEL: dict[str, str] = {
    "person": "Person", "bicycle": "Bicycle", "car": "Car", "motorcycle": "Motorcycle",
    "airplane": "Airplane", "bus": "Bus", "train": "Train", "truck": "Truck", "boat": "Boat",
    "traffic light": "Traffic Light", "fire hydrant": "Fire Hydrant", "stop sign": "Stop Sign",
    "parking meter": "Parking Meter", "bench": "Bench", "bird": "Bird", "cat": "Cat", "dog": "Dog",
    "horse": "Horse", "sheep": "Sheep", "cow": "Cow", "elephant": "Elephant", "bear": "Bear",
    "zebra": "Zebra", "giraffe": "Giraffe", "backpack": "Backpack", "umbrella": "Umbrella",
    "handbag": "Handbag", "tie": "Tie", "suitcase": "Suitcase", "frisbee": "Frisbee", "skis": "Ski",
    "snowboard": "Snowboard", "sports ball": "Ball", "kite": "Kite", "baseball bat": "Baseball Bat",
    "baseball glove": "Baseball Glove", "skateboard": "Skateboard", "surfboard": "Surfboard",
    "tennis racket": "Racket", "bottle": "Bottle", "wine glass": "Wine Glass", "cup": "Cup",
    "fork": "Fork", "knife": "Knife", "spoon": "Spoon", "bowl": "Bowl", "banana": "Banana",
    "apple": "Apple", "sandwich": "Sandwich", "orange": "Orange", "broccoli": "Broccoli",
    "carrot": "Carrot", "hot dog": "Hot Dog", "pizza": "Pizza", "donut": "Donut", "cake": "Cake",
    "chair": "Chair", "couch": "Couch", "potted plant": "Potted Plant", "bed": "Bed",
    "dining table": "Dining Table", "toilet": "Toilet", "tv": "TV", "laptop": "Laptop",
    "mouse": "Mouse", "remote": "Remote Control", "keyboard": "Computer Keyboard",
    "cell phone": "Mobile Phone", "microwave": "Microwave", "oven": "Oven", "toaster": "Toaster",
    "sink": "Sink", "refrigerator": "Refrigerator", "book": "Book", "clock": "Clock", "vase": "Vase",
    "scissors": "Scissors", "teddy bear": "Teddy Bear", "hair drier": "Hair Dryer",
    "toothbrush": "Toothbrush",
}  # fmt: skip
