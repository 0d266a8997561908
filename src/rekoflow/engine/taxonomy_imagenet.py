"""ImageNet-1k classes as Rekognition-style labels: a name, parents and a category for each.

Written from the class list (WordNet order: animals 0-397, objects 398-923, food 924-969, scenes and
plants 970-999). Several classes share one label (118 dog breeds are "Dog"); the classifier's
probabilities are summed per label. Each rule is `first-last` class indices (or one index), then
`Name > Parent, Parent | Category`. Classes no rule names are not reported (too specific or too
unreliable to name honestly: "website", "jigsaw puzzle", and "nematode", "flatworm", "trilobite",
which the network answers for star fields, micrographs and other textures).
"""

from __future__ import annotations

from rekoflow.engine.taxonomy import LABELS, LabelInfo

_RULES = """
0-6: Fish > Animal, Sea Life | Animals and Pets
7-24: Bird > Animal | Animals and Pets
25-32: Amphibian > Animal, Wildlife | Animals and Pets
33-37: Turtle > Animal, Reptile, Sea Life | Animals and Pets
38-48: Lizard > Animal, Reptile | Animals and Pets
49-50: Crocodile > Animal, Reptile | Animals and Pets
51: Triceratops > Animal, Dinosaur, Reptile | Animals and Pets
52-68: Snake > Animal, Reptile | Animals and Pets
70-78: Spider > Animal, Invertebrate | Animals and Pets
79: Centipede > Animal, Invertebrate | Animals and Pets
80-100: Bird > Animal | Animals and Pets
101: Elephant > Animal, Mammal, Wildlife | Animals and Pets
102-103: Mammal > Animal, Wildlife | Animals and Pets
104-106: Mammal > Animal, Wildlife | Animals and Pets
107: Jellyfish > Animal, Invertebrate, Sea Life | Animals and Pets
108-109: Coral Reef > Sea Life, Nature, Outdoors | Nature and Outdoors
112-117: Seashell > Animal, Invertebrate, Sea Life | Animals and Pets
118-121: Crab > Animal, Seafood, Sea Life, Food | Animals and Pets
122-124: Lobster > Animal, Seafood, Sea Life, Food | Animals and Pets
125-126: Invertebrate > Animal | Animals and Pets
127-146: Bird > Animal | Animals and Pets
147-148: Whale > Animal, Mammal, Sea Life | Animals and Pets
149-150: Sea Lion > Animal, Mammal, Sea Life | Animals and Pets
151-268: Dog > Animal, Canine, Mammal, Pet | Animals and Pets
269-272: Wolf > Animal, Canine, Mammal, Wildlife | Animals and Pets
273-275: Canine > Animal, Mammal | Animals and Pets
276: Hyena > Animal, Mammal, Wildlife | Animals and Pets
277-280: Fox > Animal, Canine, Mammal, Wildlife | Animals and Pets
281-285: Cat > Animal, Mammal, Pet | Animals and Pets
286-293: Big Cat > Animal, Mammal, Wildlife | Animals and Pets
291: Lion > Animal, Big Cat, Mammal, Wildlife | Animals and Pets
292: Tiger > Animal, Big Cat, Mammal, Wildlife | Animals and Pets
294-297: Bear > Animal, Mammal, Wildlife | Animals and Pets
298-299: Mammal > Animal, Wildlife | Animals and Pets
300-319: Insect > Animal, Invertebrate | Animals and Pets
309: Bee > Animal, Insect, Invertebrate | Animals and Pets
320-326: Butterfly > Animal, Insect, Invertebrate | Animals and Pets
327-329: Sea Life > Animal | Animals and Pets
330-332: Rabbit > Animal, Mammal, Rodent | Animals and Pets
333-338: Rodent > Animal, Mammal | Animals and Pets
339: Horse > Animal, Mammal | Animals and Pets
340: Zebra > Animal, Mammal, Wildlife | Animals and Pets
341-343: Pig > Animal, Mammal | Animals and Pets
344: Hippo > Animal, Mammal, Wildlife | Animals and Pets
345-347: Cattle > Animal, Livestock, Mammal | Animals and Pets
348-350: Sheep > Animal, Livestock, Mammal | Animals and Pets
351-353: Antelope > Animal, Mammal, Wildlife | Animals and Pets
354: Camel > Animal, Mammal | Animals and Pets
355: Llama > Animal, Mammal | Animals and Pets
356-362: Mammal > Animal, Wildlife | Animals and Pets
363-364: Mammal > Animal, Wildlife | Animals and Pets
365-384: Monkey > Animal, Mammal, Wildlife | Animals and Pets
385-386: Elephant > Animal, Mammal, Wildlife | Animals and Pets
387: Red Panda > Animal, Mammal, Wildlife | Animals and Pets
388: Giant Panda > Animal, Bear, Mammal, Wildlife | Animals and Pets
389-397: Fish > Animal, Sea Life | Animals and Pets
399-400: Fashion > Clothing | Apparel and Accessories
401: Accordion > Musical Instrument | Hobbies and Interests
402: Guitar > Musical Instrument | Hobbies and Interests
403: Aircraft Carrier > Boat, Transportation, Vehicle, Watercraft | Vehicles and Automotive
404: Airliner > Aircraft, Airplane, Transportation, Vehicle | Vehicles and Automotive
405: Airship > Aircraft, Transportation, Vehicle | Vehicles and Automotive
407: Ambulance > Car, Transportation, Vehicle | Vehicles and Automotive
408: Amphibious Vehicle > Transportation, Vehicle | Vehicles and Automotive
409: Clock > Analog Clock | Everyday Objects
411: Apron > Clothing | Apparel and Accessories
412: Trash Can > Container | Everyday Objects
413: Gun > Weapon | Public Safety
414: Backpack > Accessories, Bag | Apparel and Accessories
415: Bakery > Shop, Building | Buildings and Architecture
417: Balloon | Everyday Objects
418: Pen | Everyday Objects
420: Banjo > Guitar, Musical Instrument | Hobbies and Interests
422: Barbell > Fitness, Sport | Sports
424: Barbershop > Shop, Building | Buildings and Architecture
425: Barn > Building, Farm | Buildings and Architecture
427: Barrel | Everyday Objects
428: Wheelbarrow | Tools and Machinery
429: Baseball > Ball, Sport | Sports
430: Basketball > Ball, Sport | Sports
432: Bassoon > Musical Instrument | Hobbies and Interests
434: Towel | Home and Indoors
435: Bathtub > Bathroom | Home and Indoors
436: Car > Transportation, Vehicle | Vehicles and Automotive
437: Lighthouse > Building, Tower | Buildings and Architecture
439: Hat > Clothing | Apparel and Accessories
440: Beer Bottle > Bottle, Beverage, Alcohol | Food and Beverage
441: Beer > Beverage, Alcohol, Glass | Food and Beverage
442: Bell Tower > Building, Tower | Buildings and Architecture
444: Bicycle > Transportation, Vehicle | Vehicles and Automotive
445: Swimwear > Clothing | Apparel and Accessories
446: Binder > Office Supplies | Everyday Objects
447: Binoculars | Everyday Objects
449: Boathouse > Building | Buildings and Architecture
450: Sled > Sport | Sports
451: Tie > Accessories, Clothing | Apparel and Accessories
452: Hat > Clothing | Apparel and Accessories
453: Bookcase > Furniture, Shelf | Furniture and Furnishings
454: Bookstore > Shop, Building | Buildings and Architecture
457: Bow Tie > Accessories, Clothing, Tie | Apparel and Accessories
459: Lingerie > Clothing | Apparel and Accessories
460: Pier > Water, Outdoors | Nature and Outdoors
461: Armor | Everyday Objects
463: Bucket | Everyday Objects
465: Vest > Clothing | Apparel and Accessories
466: Train > Transportation, Vehicle | Vehicles and Automotive
467: Butcher Shop > Shop, Building | Buildings and Architecture
468: Taxi > Car, Transportation, Vehicle | Vehicles and Automotive
470: Candle | Home and Indoors
471: Cannon > Weapon | Public Safety
472: Kayak > Boat, Transportation, Vehicle, Watercraft | Vehicles and Automotive
474: Sweater > Clothing | Apparel and Accessories
476: Carousel > Amusement Park | Hobbies and Interests
478: Box > Cardboard | Everyday Objects
479: Wheel > Car, Transportation, Vehicle | Vehicles and Automotive
480: ATM > Machine | Technology and Computing
481-482: Electronics | Technology and Computing
483: Castle > Building | Buildings and Architecture
484: Boat > Transportation, Vehicle, Watercraft | Vehicles and Automotive
485: Electronics | Technology and Computing
486: Cello > Musical Instrument | Hobbies and Interests
487: Mobile Phone > Electronics, Phone | Technology and Computing
489: Fence | Buildings and Architecture
491: Chainsaw > Tool | Tools and Machinery
493: Furniture | Furniture and Furnishings
495: Cabinet > Furniture | Furniture and Furnishings
497: Church > Building | Buildings and Architecture
498: Cinema > Building | Buildings and Architecture
502: Shoe > Clothing, Footwear | Apparel and Accessories
504: Cup > Coffee Cup | Kitchen and Dining
505: Pot > Cookware | Kitchen and Dining
508: Computer Keyboard > Computer Hardware, Electronics, Hardware | Technology and Computing
509: Shop > Building | Buildings and Architecture
510: Ship > Boat, Transportation, Vehicle, Watercraft | Vehicles and Automotive
511: Convertible > Car, Transportation, Vehicle | Vehicles and Automotive
513: Trumpet > Musical Instrument | Hobbies and Interests
514: Boot > Clothing, Footwear, Shoe | Apparel and Accessories
515: Cowboy Hat > Clothing, Hat | Apparel and Accessories
517: Crane > Construction | Tools and Machinery
518: Helmet > Clothing | Apparel and Accessories
519: Box | Everyday Objects
520: Crib > Furniture | Furniture and Furnishings
525: Dam > Water, Outdoors | Nature and Outdoors
526: Desk > Furniture, Table | Furniture and Furnishings
527: Computer > Electronics | Technology and Computing
528: Phone > Electronics | Technology and Computing
530: Clock | Everyday Objects
531: Wristwatch > Accessories | Apparel and Accessories
532: Dining Table > Furniture, Table | Furniture and Furnishings
534: Dishwasher > Appliance, Device | Home and Indoors
536: Dock > Water, Outdoors | Nature and Outdoors
538: Dome > Architecture, Building | Buildings and Architecture
540: Drilling Rig > Construction | Tools and Machinery
541: Drum > Musical Instrument, Percussion | Hobbies and Interests
543: Dumbbell > Fitness, Sport | Sports
545: Electric Fan > Appliance, Device | Home and Indoors
546: Electric Guitar > Guitar, Musical Instrument | Hobbies and Interests
547: Locomotive > Train, Transportation, Vehicle | Vehicles and Automotive
548: Entertainment Center > Furniture | Furniture and Furnishings
549: Envelope > Mail | Everyday Objects
550: Coffee Maker > Appliance, Device | Kitchen and Dining
553: Filing Cabinet > Furniture, Cabinet | Furniture and Furnishings
554: Boat > Transportation, Vehicle, Watercraft | Vehicles and Automotive
555: Fire Truck > Truck, Transportation, Vehicle | Vehicles and Automotive
557: Flagpole | Symbols and Flags
558: Flute > Musical Instrument | Hobbies and Interests
559: Chair > Furniture | Furniture and Furnishings
560: Helmet > Clothing | Apparel and Accessories
561: Forklift > Machine | Tools and Machinery
562: Fountain > Water, Outdoors | Nature and Outdoors
563: Pen | Everyday Objects
564: Bed > Furniture | Furniture and Furnishings
565: Freight Car > Train, Transportation, Vehicle | Vehicles and Automotive
566: French Horn > Musical Instrument | Hobbies and Interests
567: Frying Pan > Cookware | Kitchen and Dining
568: Coat > Clothing | Apparel and Accessories
569: Garbage Truck > Truck, Transportation, Vehicle | Vehicles and Automotive
571: Gas Pump > Machine | Vehicles and Automotive
572: Goblet > Glass | Kitchen and Dining
573: Go-Kart > Transportation, Vehicle | Vehicles and Automotive
574: Golf Ball > Ball, Golf, Sport | Sports
575: Golf Cart > Transportation, Vehicle | Vehicles and Automotive
576: Gondola > Boat, Transportation, Vehicle, Watercraft | Vehicles and Automotive
577: Gong > Musical Instrument | Hobbies and Interests
578: Gown > Clothing, Fashion | Apparel and Accessories
579: Piano > Musical Instrument | Hobbies and Interests
580: Greenhouse > Building | Buildings and Architecture
581: Grille > Car, Transportation, Vehicle | Vehicles and Automotive
582: Grocery Store > Shop, Building | Buildings and Architecture
587: Hammer > Tool | Tools and Machinery
589: Hair Dryer > Appliance, Device | Beauty and Personal Care
593: Harmonica > Musical Instrument | Hobbies and Interests
594: Harp > Musical Instrument | Hobbies and Interests
595: Harvester > Machine, Farm | Tools and Machinery
596: Axe > Tool | Tools and Machinery
598: Home Theater > Electronics | Technology and Computing
601: Skirt > Clothing | Apparel and Accessories
602: Gymnastics > Sport | Sports
603: Carriage > Transportation, Vehicle | Vehicles and Automotive
604: Hourglass | Everyday Objects
605: Electronics | Technology and Computing
607: Pumpkin > Food, Plant, Vegetable, Produce | Food and Beverage
608: Jeans > Clothing, Pants | Apparel and Accessories
609: Jeep > Car, Transportation, Vehicle | Vehicles and Automotive
610: T-Shirt > Clothing | Apparel and Accessories
613: Joystick > Electronics | Technology and Computing
614: Kimono > Clothing, Fashion | Apparel and Accessories
617: Lab Coat > Clothing, Coat | Apparel and Accessories
619: Lamp | Home and Indoors
620: Laptop > Computer, Electronics | Technology and Computing
621: Lawn Mower > Machine | Tools and Machinery
624: Library > Indoors, Room | Buildings and Architecture
625: Boat > Transportation, Vehicle, Watercraft | Vehicles and Automotive
627: Limo > Car, Transportation, Vehicle | Vehicles and Automotive
628: Ship > Boat, Transportation, Vehicle, Watercraft | Vehicles and Automotive
629: Lipstick > Cosmetics | Beauty and Personal Care
630: Shoe > Clothing, Footwear | Apparel and Accessories
632: Speaker > Electronics | Technology and Computing
635: Compass | Everyday Objects
636: Bag > Accessories | Apparel and Accessories
637: Mailbox > Mail | Everyday Objects
639: Swimwear > Clothing | Apparel and Accessories
643: Mask | Apparel and Accessories
647: Measuring Cup > Cup | Kitchen and Dining
650: Microphone > Electronics | Technology and Computing
651: Microwave > Appliance, Device | Home and Indoors
652: Military Uniform > Clothing, Military | Apparel and Accessories
654: Bus > Transportation, Vehicle | Vehicles and Automotive
655: Skirt > Clothing | Apparel and Accessories
656: Van > Transportation, Vehicle | Vehicles and Automotive
657: Rocket > Weapon, Missile | Vehicles and Automotive
658: Glove > Clothing | Apparel and Accessories
659: Bowl | Kitchen and Dining
660: Mobile Home > Building | Buildings and Architecture
661: Car > Transportation, Vehicle | Vehicles and Automotive
663: Monastery > Building | Buildings and Architecture
664: Monitor > Electronics, Screen | Technology and Computing
665: Moped > Motorcycle, Transportation, Vehicle | Vehicles and Automotive
667: Graduation > Hat, Clothing | Apparel and Accessories
668: Mosque > Building | Buildings and Architecture
670: Motor Scooter > Motorcycle, Transportation, Vehicle | Vehicles and Automotive
671: Mountain Bike > Bicycle, Transportation, Vehicle | Vehicles and Automotive
672: Tent > Camping, Outdoors | Travel and Adventure
673: Mouse > Computer Hardware, Electronics, Hardware | Technology and Computing
675: Moving Van > Truck, Transportation, Vehicle | Vehicles and Automotive
679: Necklace > Accessories, Jewelry | Apparel and Accessories
681: Laptop > Computer, Electronics | Technology and Computing
682: Obelisk > Monument | Buildings and Architecture
683: Oboe > Musical Instrument | Hobbies and Interests
687: Pipe Organ > Musical Instrument | Hobbies and Interests
690: Cart > Transportation, Vehicle | Vehicles and Automotive
694: Boat > Transportation, Vehicle, Watercraft | Vehicles and Automotive
697: Pajamas > Clothing | Apparel and Accessories
698: Palace > Building | Buildings and Architecture
701: Parachute > Sport | Sports
703: Bench > Furniture | Furniture and Furnishings
704: Parking Meter | Everyday Objects
705: Railway > Train, Transportation, Vehicle | Vehicles and Automotive
706: Patio > Outdoors | Home and Indoors
707: Payphone > Phone | Technology and Computing
711: Perfume > Cosmetics, Bottle | Beauty and Personal Care
713: Photocopier > Machine | Technology and Computing
716: Fence | Buildings and Architecture
717: Pickup Truck > Truck, Transportation, Vehicle | Vehicles and Automotive
718: Pier > Water, Outdoors | Nature and Outdoors
721: Pillow > Cushion | Home and Indoors
722: Ping Pong > Ball, Sport | Sports
724: Pirate Ship > Boat, Transportation, Vehicle, Watercraft | Vehicles and Automotive
725: Pitcher > Jug | Kitchen and Dining
727: Planetarium > Building | Buildings and Architecture
728: Plastic Bag > Bag | Everyday Objects
732: Camera > Electronics | Technology and Computing
734: Police Van > Van, Transportation, Vehicle | Vehicles and Automotive
735: Poncho > Clothing | Apparel and Accessories
736: Pool Table > Furniture, Table | Sports
737: Soda > Bottle, Beverage | Food and Beverage
738: Pottery > Potted Plant | Home and Indoors
740: Power Drill > Tool | Tools and Machinery
742: Printer > Electronics | Technology and Computing
743: Prison > Building | Buildings and Architecture
744: Rocket > Weapon, Missile | Vehicles and Automotive
745: Projector > Electronics | Technology and Computing
746: Hockey Puck > Hockey, Sport | Sports
747: Punching Bag > Boxing, Sport | Sports
748: Handbag > Accessories, Bag | Apparel and Accessories
750: Quilt > Blanket | Home and Indoors
751: Race Car > Car, Transportation, Vehicle | Vehicles and Automotive
752: Racket > Sport | Sports
754: Radio > Electronics | Technology and Computing
755: Radio Telescope > Antenna | Technology and Computing
757: RV > Transportation, Vehicle | Vehicles and Automotive
759: Camera > Electronics | Technology and Computing
760: Refrigerator > Appliance, Device | Home and Indoors
761: Remote Control > Electronics | Technology and Computing
762: Restaurant > Indoors, Room | Food and Beverage
763-764: Gun > Weapon | Public Safety
765: Rocking Chair > Chair, Furniture | Furniture and Furnishings
768: Rugby Ball > Ball, Sport | Sports
769: Ruler | Everyday Objects
770: Sneaker > Clothing, Footwear, Shoe | Apparel and Accessories
771: Safe | Everyday Objects
774: Sandal > Clothing, Footwear, Shoe | Apparel and Accessories
776: Saxophone > Musical Instrument | Hobbies and Interests
778: Scale | Everyday Objects
779: School Bus > Bus, Transportation, Vehicle | Vehicles and Automotive
780: Sailboat > Boat, Transportation, Vehicle, Watercraft | Vehicles and Automotive
781: Scoreboard > Electronics | Sports
782: Monitor > Electronics, Screen | Technology and Computing
784: Screwdriver > Tool | Tools and Machinery
786: Sewing Machine > Machine | Tools and Machinery
787: Shield | Everyday Objects
788: Shoe Shop > Shop, Building | Buildings and Architecture
790: Basket | Everyday Objects
791: Shopping Cart | Everyday Objects
792: Shovel > Tool | Tools and Machinery
795: Ski > Skiing, Sport | Sports
796: Balaclava > Clothing, Hat | Apparel and Accessories
800: Slot Machine > Gambling | Hobbies and Interests
802: Snowmobile > Transportation, Vehicle | Vehicles and Automotive
803: Snowplow > Truck, Transportation, Vehicle | Vehicles and Automotive
805: Soccer Ball > Ball, Football, Sport | Sports
806: Sock > Clothing | Apparel and Accessories
807: Solar Panels > Electrical Device | Technology and Computing
808: Sombrero > Clothing, Hat | Apparel and Accessories
809: Bowl | Kitchen and Dining
812: Space Shuttle > Aircraft, Spaceship, Transportation, Vehicle | Vehicles and Automotive
814: Speedboat > Boat, Transportation, Vehicle, Watercraft | Vehicles and Automotive
815: Spider Web | Nature and Outdoors
817: Sports Car > Car, Transportation, Vehicle | Vehicles and Automotive
818: Lighting | Home and Indoors
819: Stage > Indoors | Hobbies and Interests
820: Locomotive > Train, Transportation, Vehicle | Vehicles and Automotive
821: Bridge > Architecture | Buildings and Architecture
822: Drum > Musical Instrument, Percussion | Hobbies and Interests
823: Stethoscope | Health and Fitness
824: Scarf > Accessories, Clothing | Apparel and Accessories
825: Wall > Architecture | Buildings and Architecture
826: Stopwatch > Clock | Everyday Objects
827: Stove > Appliance, Device | Kitchen and Dining
829: Tram > Train, Transportation, Vehicle | Vehicles and Automotive
831: Couch > Furniture | Furniture and Furnishings
832: Temple > Building | Buildings and Architecture
833: Submarine > Boat, Transportation, Vehicle, Watercraft | Vehicles and Automotive
834: Suit > Clothing, Formal Wear | Apparel and Accessories
836-837: Sunglasses > Accessories, Glasses | Apparel and Accessories
839: Suspension Bridge > Bridge, Architecture | Buildings and Architecture
841: Sweatshirt > Clothing | Apparel and Accessories
842: Shorts > Clothing | Apparel and Accessories
843: Swing > Playground | Hobbies and Interests
846: Table Lamp > Lamp | Home and Indoors
847: Tank > Military, Weapon, Vehicle | Vehicles and Automotive
849: Teapot > Pot, Cookware | Kitchen and Dining
850: Teddy Bear > Toy | Hobbies and Interests
851: TV > Electronics, Screen | Technology and Computing
852: Tennis Ball > Ball, Tennis, Sport | Sports
853: Roof > Architecture, Building | Buildings and Architecture
857: Throne > Chair, Furniture | Furniture and Furnishings
858: Roof > Architecture, Building | Buildings and Architecture
859: Toaster > Appliance, Device | Home and Indoors
860: Shop > Building | Buildings and Architecture
861: Toilet > Bathroom | Home and Indoors
863: Totem | Symbols and Flags
864: Tow Truck > Truck, Transportation, Vehicle | Vehicles and Automotive
865: Toy Store > Shop, Building | Buildings and Architecture
866: Tractor > Transportation, Vehicle, Machine | Vehicles and Automotive
867: Truck > Transportation, Vehicle | Vehicles and Automotive
868: Tray | Kitchen and Dining
869: Coat > Clothing | Apparel and Accessories
870: Tricycle > Transportation, Vehicle | Vehicles and Automotive
871: Boat > Transportation, Vehicle, Watercraft | Vehicles and Automotive
872: Tripod > Camera | Technology and Computing
873: Arch > Architecture, Monument | Buildings and Architecture
874: Bus > Transportation, Vehicle | Vehicles and Automotive
875: Trombone > Musical Instrument | Hobbies and Interests
876: Hot Tub > Tub | Home and Indoors
879: Umbrella > Accessories | Apparel and Accessories
880: Unicycle > Transportation, Vehicle | Vehicles and Automotive
881: Piano > Musical Instrument | Hobbies and Interests
882: Vacuum Cleaner > Appliance, Device | Home and Indoors
883: Vase > Pottery | Home and Indoors
886: Vending Machine > Machine | Everyday Objects
888: Bridge > Architecture | Buildings and Architecture
889: Violin > Musical Instrument | Hobbies and Interests
890: Volleyball > Ball, Sport | Sports
892: Clock | Everyday Objects
893: Wallet > Accessories | Apparel and Accessories
894: Closet > Furniture, Cabinet | Furniture and Furnishings
895: Warplane > Aircraft, Airplane, Military, Transportation, Vehicle | Vehicles and Automotive
896: Sink > Bathroom | Home and Indoors
897: Washer > Appliance, Device | Home and Indoors
898: Water Bottle > Bottle | Kitchen and Dining
900: Water Tower > Tower, Architecture | Buildings and Architecture
906: Tie > Accessories, Clothing | Apparel and Accessories
907: Wine Bottle > Bottle, Beverage, Alcohol | Food and Beverage
908: Airplane > Aircraft, Transportation, Vehicle | Vehicles and Automotive
909: Wok > Cookware | Kitchen and Dining
912: Fence | Buildings and Architecture
913: Shipwreck > Boat, Watercraft | Vehicles and Automotive
914: Sailboat > Boat, Transportation, Vehicle, Watercraft | Vehicles and Automotive
915: Yurt > Tent, Camping | Travel and Adventure
917: Comics > Book, Publication | Text and Documents
918: Crossword Puzzle > Text, Game | Text and Documents
919: Sign > Symbol, Road Sign | Symbols and Flags
920: Traffic Light > Light | Public Safety
921: Book > Publication | Text and Documents
922: Menu > Text | Text and Documents
923: Plate > Dish, Food | Kitchen and Dining
924-927: Food > Meal, Dish | Food and Beverage
928-929: Dessert > Food | Food and Beverage
928: Ice Cream > Dessert, Food, Cream | Food and Beverage
930-932: Bread > Food | Food and Beverage
933: Burger > Food | Food and Beverage
934: Hot Dog > Food | Food and Beverage
935: Food > Meal, Dish | Food and Beverage
936-946: Vegetable > Food, Plant, Produce | Food and Beverage
947: Mushroom > Fungus, Plant | Food and Beverage
948-957: Fruit > Food, Plant, Produce | Food and Beverage
948: Apple > Food, Fruit, Plant, Produce | Food and Beverage
949: Strawberry > Food, Fruit, Plant, Produce, Berry | Food and Beverage
950: Orange > Food, Fruit, Plant, Produce, Citrus Fruit | Food and Beverage
951: Lemon > Food, Fruit, Plant, Produce, Citrus Fruit | Food and Beverage
953: Pineapple > Food, Fruit, Plant, Produce | Food and Beverage
954: Banana > Food, Fruit, Plant, Produce | Food and Beverage
958: Hay > Plant, Farm | Nature and Outdoors
959: Pasta > Food, Meal, Dish | Food and Beverage
961: Dough > Food | Food and Beverage
962: Food > Meal, Dish | Food and Beverage
963: Pizza > Food | Food and Beverage
964-965: Food > Meal, Dish | Food and Beverage
966: Wine > Alcohol, Beverage, Liquor | Food and Beverage
967: Coffee > Beverage, Food, Espresso | Food and Beverage
968: Cup > Coffee Cup | Kitchen and Dining
969: Beverage > Food | Food and Beverage
970: Mountain > Nature, Outdoors | Nature and Outdoors
972: Cliff > Nature, Outdoors | Nature and Outdoors
973: Coral Reef > Sea Life, Nature, Outdoors | Nature and Outdoors
974: Geyser > Nature, Outdoors | Nature and Outdoors
975: Lake > Water, Nature, Outdoors | Nature and Outdoors
976: Promontory > Nature, Outdoors, Sea, Water | Nature and Outdoors
977-978: Beach > Coast, Nature, Outdoors, Sea, Water | Nature and Outdoors
979: Valley > Nature, Outdoors | Nature and Outdoors
980: Volcano > Mountain, Nature, Outdoors | Nature and Outdoors
981: Baseball > Sport, Person | Sports
982: Groom > Wedding, Person | Events and Attractions
983: Scuba Diving > Sport, Water, Person | Sports
984: Flower > Plant, Field | Plants and Flowers
985: Daisy > Flower, Plant | Plants and Flowers
986: Flower > Plant, Orchid | Plants and Flowers
987: Corn > Food, Grain, Plant, Produce | Food and Beverage
988: Acorn > Plant, Nut, Food | Plants and Flowers
991-997: Fungus > Plant | Nature and Outdoors
998: Grain > Plant | Plants and Flowers
999: Paper | Everyday Objects
"""

# Parents that appear only as parents, with their categories (each must also be a label).
_PARENTS = """
Sea Life | Animals and Pets
Reptile > Animal | Animals and Pets
Dinosaur > Animal, Reptile | Animals and Pets
Invertebrate > Animal | Animals and Pets
Insect > Animal, Invertebrate | Animals and Pets
Seafood > Food | Food and Beverage
Rodent > Animal, Mammal | Animals and Pets
Big Cat > Animal, Mammal, Wildlife | Animals and Pets
Bear > Animal, Mammal, Wildlife | Animals and Pets
Nature | Nature and Outdoors
Outdoors | Nature and Outdoors
Water | Nature and Outdoors
Sea > Water, Outdoors, Nature | Nature and Outdoors
Coast > Outdoors, Nature | Nature and Outdoors
Musical Instrument | Hobbies and Interests
Percussion > Musical Instrument | Hobbies and Interests
Guitar > Musical Instrument | Hobbies and Interests
Fashion | Apparel and Accessories
Footwear > Clothing | Apparel and Accessories
Shoe > Clothing, Footwear | Apparel and Accessories
Hat > Clothing | Apparel and Accessories
Coat > Clothing | Apparel and Accessories
Pants > Clothing | Apparel and Accessories
Formal Wear > Clothing | Apparel and Accessories
Glasses > Accessories | Apparel and Accessories
Jewelry > Accessories | Apparel and Accessories
Military | Public Safety
Weapon | Public Safety
Missile > Weapon | Public Safety
Analog Clock > Clock | Everyday Objects
Container | Everyday Objects
Shop > Building | Buildings and Architecture
Building > Architecture | Buildings and Architecture
Architecture | Buildings and Architecture
Tower > Architecture, Building | Buildings and Architecture
Monument > Architecture | Buildings and Architecture
Bridge > Architecture | Buildings and Architecture
Farm > Outdoors | Nature and Outdoors
Fitness > Sport | Sports
Golf > Sport | Sports
Tennis > Sport | Sports
Hockey > Sport | Sports
Boxing > Sport | Sports
Skiing > Sport | Sports
Football > Sport | Sports
Bathroom > Indoors, Room | Home and Indoors
Indoors | Home and Indoors
Room > Indoors | Home and Indoors
Office Supplies | Everyday Objects
Cardboard | Everyday Objects
Machine | Tools and Machinery
Tool | Tools and Machinery
Construction | Tools and Machinery
Cookware > Kitchen Utensil | Kitchen and Dining
Kitchen Utensil | Kitchen and Dining
Pot > Cookware | Kitchen and Dining
Jug | Kitchen and Dining
Glass | Kitchen and Dining
Coffee Cup > Cup | Kitchen and Dining
Dish > Food, Meal | Food and Beverage
Meal > Food | Food and Beverage
Cream > Food, Dessert | Food and Beverage
Berry > Fruit, Food, Plant, Produce | Food and Beverage
Citrus Fruit > Fruit, Food, Plant, Produce | Food and Beverage
Grain > Plant | Plants and Flowers
Nut > Food, Plant | Food and Beverage
Fungus > Plant | Nature and Outdoors
Flower > Plant | Plants and Flowers
Orchid > Flower, Plant | Plants and Flowers
Field > Outdoors, Nature | Nature and Outdoors
Beverage > Food | Food and Beverage
Alcohol > Beverage | Food and Beverage
Liquor > Alcohol, Beverage | Food and Beverage
Espresso > Beverage, Coffee | Food and Beverage
Coffee > Beverage, Food | Food and Beverage
Bread > Food | Food and Beverage
Screen > Electronics | Technology and Computing
Electrical Device | Technology and Computing
Antenna > Electronics | Technology and Computing
Camera > Electronics | Technology and Computing
Mail | Everyday Objects
Cabinet > Furniture | Furniture and Furnishings
Shelf > Furniture | Furniture and Furnishings
Cushion | Home and Indoors
Blanket | Home and Indoors
Tub | Home and Indoors
Lamp | Home and Indoors
Lighting | Home and Indoors
Camping > Outdoors | Travel and Adventure
Tent > Camping, Outdoors | Travel and Adventure
Playground > Outdoors | Hobbies and Interests
Amusement Park | Hobbies and Interests
Gambling | Hobbies and Interests
Game | Hobbies and Interests
Cosmetics | Beauty and Personal Care
Wedding | Events and Attractions
Van > Transportation, Vehicle | Vehicles and Automotive
Spaceship > Aircraft, Transportation, Vehicle | Vehicles and Automotive
Road Sign > Sign, Symbol | Symbols and Flags
Text | Text and Documents
Pottery | Home and Indoors
"""


def _parse(line: str) -> tuple[str, LabelInfo]:
    names, _, category = line.partition("|")
    name, _, parents = names.partition(">")
    return name.strip(), LabelInfo(
        category=category.strip(), parents=tuple(p.strip() for p in parents.split(",") if p.strip())
    )


def _register() -> dict[int, str]:
    for line in _PARENTS.strip().splitlines():
        name, info = _parse(line)
        LABELS.setdefault(name, info)
    by_class: dict[int, str] = {}
    for line in _RULES.strip().splitlines():
        span, _, rest = line.partition(":")
        first, _, last = span.partition("-")
        name, info = _parse(rest)
        LABELS.setdefault(name, info)
        for index in range(int(first), int(last or first) + 1):
            by_class[index] = name  # later, more specific rules override ranges
    return by_class


IMAGENET_TO_LABEL: dict[int, str] = _register()
