"""Plain data for the generated catalog: WebShop-like product types in its five categories.

Each type gives what the original's scraped records hold for a product of that kind: the search
``query`` it was scraped with, its category path (``A › B › C``), the nouns its titles use, its
attribute vocabulary in the three roles the original's instructions use them (``Find me {adj,
adj} {leaf category} with {with, with} for {for, for}``), its option groups and a price range.
Option values keep some of the real catalogue's awkward ones on purpose
(``Stonewash``, ``Dark Wash``): ``normalize_color`` turns them into a colour (``ash``) that no
longer matches the goal, which is why a few goals cannot score 1 even with the right purchase
(see ``expert.py``). Kept as data so the generator reads one source of truth.
"""

from __future__ import annotations

from typing import Any

# option value pools -----------------------------------------------------------------------
CLOTHING_SIZES = ("X-Small", "Small", "Medium", "Large", "X-Large", "XX-Large", "3X-Large")
SHOE_SIZES = ("6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12")
BASIC_COLORS = ("Black", "White", "Navy Blue", "Grey", "Red", "Pink", "Beige", "Olive Green",
                "Dark Brown", "Light Blue", "Burgundy", "Khaki", "Purple", "Teal", "Mustard",
                "Heather Grey", "Black/White", "Multicolor", "Coral", "Royal Blue")
DENIM_COLORS = ("Dark Wash", "Medium Blue", "Black", "Light Blue", "Stonewash", "Indigo")
HAIR_COLORS = ("Natural Black", "Dark Brown", "Medium Brown", "Ash Blonde", "Platinum Blonde",
               "Honey Blonde", "Auburn", "Burgundy", "Ombre Brown")
MAKEUP_SHADES = ("Nude", "Rose", "Coral", "Berry", "Mauve", "Red", "Peach", "Plum",
                 "Natural Beige", "Warm Sand", "Ivory", "Espresso")
SCENTS = ("Lavender", "Vanilla", "Coconut", "Eucalyptus Mint", "Unscented", "Citrus",
          "Rose Petal", "Cedarwood", "Fresh Linen", "Tea Tree")
FLAVORS = ("Original", "Dark Chocolate", "Sea Salt Caramel", "Honey Roasted", "Vanilla",
           "Strawberry", "Peanut Butter", "Cinnamon", "Lemon", "Mixed Berry", "Matcha")
PACKS = ("1 Count (Pack of 1)", "2 Count (Pack of 2)", "Pack of 3", "Pack of 6", "12 Count",
         "24 Count")
WEIGHTS = ("4 Ounce", "8 Ounce", "12 Ounce", "16 Ounce (Pack of 1)", "2 Pound", "5.3 Ounce")
VOLUMES = ("1 Fl Oz", "2 Fl Oz", "3.4 Fl Oz", "8 Fl Oz", "16 Fl Oz")
DEVICE_COLORS = ("Black", "White", "Silver", "Space Gray", "Blue", "Rose Gold", "Green")
STYLES = ("Basic", "Pro", "Lite", "Plus", "Deluxe", "Classic")
CAPACITIES = ("32GB", "64GB", "128GB", "256GB", "512GB")
WOOD_FINISHES = ("Walnut", "Espresso", "White Oak", "Natural", "Grey Oak", "Black")
FURNITURE_SIZES = ("Small", "Medium", "Large", "2-Tier", "3-Tier", "4-Tier")
RUG_SIZES = ("2' x 3'", "3' x 5'", "5' x 7'", "8' x 10'", "Runner 2' x 8'")
FABRIC_COLORS = ("Light Grey", "Dark Grey", "Navy", "Cream", "Emerald Green", "Mustard Yellow",
                 "Blush Pink", "Charcoal")
LENGTHS = ("14 Inch", "16 Inch", "18 Inch", "20 Inch", "22 Inch", "24 Inch")


def _t(query: str, path: tuple[str, ...], nouns: tuple[str, ...], adj: tuple[str, ...],
       with_: tuple[str, ...], for_: tuple[str, ...], options: dict[str, tuple[str, ...]],
       price: tuple[float, float]) -> dict[str, Any]:
    return {"query": query, "path": path, "nouns": nouns, "adj": adj, "with": with_,
            "for": for_, "options": options, "price": price}


BEAUTY = (
    _t("hair extensions", ("Beauty & Personal Care", "Hair Care",
                           "Hair Extensions, Wigs & Accessories"),
       ("Clip in Hair Extensions", "Hair Extension", "Hairpiece", "Ponytail Extension"),
       ("natural looking", "easy apply", "high quality", "heat resistant", "long lasting"),
       ("human hair", "synthetic hair", "hair clips"), ("natural hair", "thin hair", "daily wear"),
       {"Color": HAIR_COLORS, "Size": LENGTHS}, (12.0, 89.0)),
    _t("lipstick", ("Beauty & Personal Care", "Makeup", "Lips Makeup", "Lipstick"),
       ("Matte Lipstick", "Liquid Lipstick", "Lip Stain", "Lip Color"),
       ("long lasting", "cruelty free", "highly pigmented", "paraben free", "easy apply"),
       ("vitamin e", "shea butter", "jojoba oil"), ("dry lips", "sensitive skin"),
       {"Color": MAKEUP_SHADES}, (5.0, 32.0)),
    _t("body scrub", ("Beauty & Personal Care", "Skin Care", "Body",
                      "Scrubs & Body Treatments"),
       ("Body Scrub", "Exfoliating Scrub", "Sugar Scrub", "Salt Scrub"),
       ("natural ingredients", "cruelty free", "paraben free", "certified organic", "non toxic"),
       ("tea tree", "coconut oil", "essential oils", "dead sea salt"),
       ("dead skin", "dry skin", "sensitive skin"),
       {"Scent": SCENTS, "Size": VOLUMES}, (8.0, 36.0)),
    _t("face moisturizer", ("Beauty & Personal Care", "Skin Care", "Face", "Creams & Moisturizers"),
       ("Face Moisturizer", "Night Cream", "Day Cream", "Facial Lotion"),
       ("anti aging", "fragrance free", "dermatologist tested", "oil free", "non comedogenic"),
       ("hyaluronic acid", "vitamin c", "retinol", "green tea"),
       ("fine lines", "dry skin", "dark circles", "sensitive skin"),
       {"Size": VOLUMES}, (9.0, 68.0)),
    _t("shampoo", ("Beauty & Personal Care", "Hair Care", "Shampoo & Conditioner", "Shampoos"),
       ("Shampoo", "Clarifying Shampoo", "Volumizing Shampoo", "Shampoo and Conditioner Set"),
       ("sulfate free", "paraben free", "cruelty free", "color safe"),
       ("argan oil", "tea tree", "biotin", "keratin"),
       ("hair growth", "dry hair", "damaged hair", "hair loss"),
       {"Scent": SCENTS, "Size": VOLUMES}, (7.0, 42.0)),
    _t("makeup brushes", ("Beauty & Personal Care", "Tools & Accessories",
                          "Makeup Brushes & Tools"),
       ("Makeup Brush Set", "Foundation Brush", "Kabuki Brush", "Eyeshadow Brushes"),
       ("cruelty free", "high quality", "easy clean", "easy carry"),
       ("synthetic bristles", "storage case", "wooden handle"),
       ("eye shadow", "liquid foundation", "professional makeup"),
       {"Color": ("Black", "Rose Gold", "Pink", "White", "Champagne Gold")}, (6.0, 45.0)),
    _t("nail polish", ("Beauty & Personal Care", "Foot, Hand & Nail Care", "Nail Art & Polish",
                       "Nail Polish"),
       ("Nail Polish", "Gel Nail Polish", "Nail Lacquer", "Nail Polish Set"),
       ("long lasting", "non toxic", "quick dry", "cruelty free"),
       ("top coat", "base coat"), ("nail art", "salon manicure"),
       {"Color": (*MAKEUP_SHADES, "Glitter Silver", "Midnight Blue"),
        "Size": ("0.5 Fl Oz", "Pack of 3", "Pack of 6")}, (4.0, 28.0)),
    _t("men's fragrance", ("Beauty & Personal Care", "Fragrance", "Men's", "Eau de Toilette"),
       ("Eau de Toilette", "Cologne Spray", "Eau de Parfum", "Cologne"),
       ("long lasting", "alcohol free", "travel size"),
       ("natural ingredients", "essential oils", "woody notes"),
       ("daily wear", "special occasions"),
       {"Size": VOLUMES}, (15.0, 120.0)),
)

ELECTRONICS = (
    _t("wireless earbuds", ("Electronics", "Headphones, Earbuds & Accessories", "Earbuds"),
       ("Wireless Earbuds", "Bluetooth Earbuds", "True Wireless Earphones", "Sport Earbuds"),
       ("noise cancelling", "water resistant", "fast charging", "easy use", "high quality"),
       ("charging case", "microphone", "touch control"), ("running", "workout", "phone calls"),
       {"Color": DEVICE_COLORS, "Style": STYLES}, (15.0, 150.0)),
    _t("phone case", ("Electronics", "Cell Phones & Accessories", "Cases, Holsters & Sleeves",
                      "Basic Cases"),
       ("Phone Case", "Protective Case", "Slim Case", "Wallet Case"),
       ("shock absorbing", "slim fit", "heavy duty", "easy install"),
       ("tempered glass", "card holder", "kickstand"),
       ("iphone 13", "galaxy s22", "drop protection"),
       {"Color": (*DEVICE_COLORS, "Clear", "Purple", "Midnight Green")}, (6.0, 35.0)),
    _t("usb c cable", ("Electronics", "Computers & Accessories", "Computer Accessories",
                       "Cables & Interconnects", "USB Cables"),
       ("USB C Cable", "Charging Cable", "Fast Charger Cable", "USB C to USB C Cable"),
       ("fast charging", "high speed", "durable braided", "heavy duty"),
       ("nylon braided", "aluminum connector"), ("data transfer", "laptop charging"),
       {"Color": ("Black", "White", "Grey", "Red"), "Size": ("3 Feet", "6 Feet", "10 Feet",
                                                             "3 Pack")}, (5.0, 25.0)),
    _t("bluetooth speaker", ("Electronics", "Portable Audio & Video", "Portable Speakers & Docks",
                             "Portable Bluetooth Speakers"),
       ("Bluetooth Speaker", "Portable Speaker", "Wireless Speaker", "Outdoor Speaker"),
       ("water resistant", "long lasting", "easy carry", "high quality"),
       ("stereo sound", "built in microphone", "deep bass"), ("outdoor party", "travel", "shower"),
       {"Color": DEVICE_COLORS, "Style": STYLES}, (18.0, 160.0)),
    _t("memory card", ("Electronics", "Computers & Accessories", "Data Storage",
                       "Memory Cards", "Micro SD Cards"),
       ("MicroSD Card", "Memory Card", "SDXC Card", "Micro SD Memory Card"),
       ("high speed", "water resistant", "plug and play"),
       ("sd adapter", "uhs i"), ("4k video", "nintendo switch", "dash cam"),
       {"Capacity": CAPACITIES}, (6.0, 90.0)),
    _t("hdmi cable", ("Electronics", "Television & Video", "Accessories", "Cables",
                      "HDMI Cables"),
       ("HDMI Cable", "High Speed HDMI Cable", "8K HDMI Cord", "HDMI Adapter Cable"),
       ("high speed", "gold plated", "plug and play", "durable braided"),
       ("ethernet", "gold plated connectors"), ("4k tv", "gaming", "home theater"),
       {"Size": ("3 Feet", "6 Feet", "10 Feet", "15 Feet", "2 Pack")}, (5.0, 30.0)),
    _t("wireless mouse", ("Electronics", "Computers & Accessories", "Computer Accessories",
                          "Keyboards, Mice & Accessories", "Mice"),
       ("Wireless Mouse", "Ergonomic Mouse", "Silent Mouse", "Bluetooth Mouse"),
       ("easy use", "ergonomic design", "long battery life", "plug and play"),
       ("usb receiver", "silent click"), ("laptop", "office work", "gaming"),
       {"Color": DEVICE_COLORS, "Style": ("Classic", "Rechargeable", "Silent")}, (8.0, 60.0)),
    _t("screen protector", ("Electronics", "Cell Phones & Accessories", "Accessories",
                            "Screen Protectors"),
       ("Screen Protector", "Tempered Glass Screen Protector", "Privacy Screen Protector"),
       ("easy install", "bubble free", "case friendly", "high definition"),
       ("tempered glass", "alignment frame"), ("iphone 14", "galaxy s23", "scratch protection"),
       {"Size": ("2 Pack", "3 Pack", "4 Pack")}, (5.0, 20.0)),
)

FASHION = (
    _t("women's jumpsuits", ("Clothing, Shoes & Jewelry", "Women", "Clothing",
                             "Jumpsuits, Rompers & Overalls"),
       ("Jumpsuit", "Romper", "Wide Leg Jumpsuit", "Overalls"),
       ("slim fit", "machine wash", "loose fit", "hand wash"),
       ("short sleeve", "high waist", "polyester spandex", "pockets"),
       ("daily wear", "summer", "work"),
       {"Color": BASIC_COLORS, "Size": CLOTHING_SIZES}, (15.0, 55.0)),
    _t("men's jeans", ("Clothing, Shoes & Jewelry", "Men", "Clothing", "Jeans"),
       ("Jeans", "Slim Fit Jeans", "Straight Leg Jeans", "Relaxed Fit Jeans"),
       ("slim fit", "machine wash", "relaxed fit", "regular fit"),
       ("stretch denim", "button closure", "cotton blend"), ("daily wear", "casual"),
       {"Color": DENIM_COLORS, "Size": ("30W x 30L", "32W x 30L", "32W x 32L", "34W x 32L",
                                        "36W x 32L", "38W x 34L")}, (20.0, 70.0)),
    _t("running shoes", ("Clothing, Shoes & Jewelry", "Men", "Shoes", "Athletic",
                         "Running"),
       ("Running Shoes", "Trail Running Shoe", "Sneakers", "Walking Shoes"),
       ("non slip", "lightweight", "breathable", "rubber sole"),
       ("memory foam", "mesh upper", "rubber outsole"), ("running", "gym", "walking"),
       {"Color": BASIC_COLORS, "Size": SHOE_SIZES}, (28.0, 120.0)),
    _t("women's sweaters", ("Clothing, Shoes & Jewelry", "Women", "Clothing", "Sweaters",
                            "Pullovers"),
       ("Sweater", "Pullover Sweater", "Cardigan", "Knit Sweater"),
       ("loose fit", "hand wash", "machine wash", "soft material"),
       ("long sleeve", "crew neck", "cable knit"), ("winter", "daily wear", "fall"),
       {"Color": BASIC_COLORS, "Size": CLOTHING_SIZES}, (18.0, 60.0)),
    _t("baseball cap", ("Clothing, Shoes & Jewelry", "Men", "Accessories", "Hats & Caps",
                        "Baseball Caps"),
       ("Baseball Cap", "Trucker Hat", "Dad Hat", "Snapback Hat"),
       ("adjustable size", "machine wash", "breathable", "quick dry"),
       ("cotton twill", "mesh back", "curved brim"), ("outdoor", "golf", "running"),
       {"Color": BASIC_COLORS}, (8.0, 30.0)),
    _t("women's leggings", ("Clothing, Shoes & Jewelry", "Women", "Clothing", "Active",
                            "Leggings"),
       ("Leggings", "Yoga Pants", "High Waisted Leggings", "Workout Leggings"),
       ("tummy control", "quick dry", "moisture wicking", "machine wash"),
       ("high waist", "side pockets", "polyester spandex"), ("yoga", "workout", "running"),
       {"Color": BASIC_COLORS, "Size": CLOTHING_SIZES}, (12.0, 45.0)),
    _t("men's t-shirts", ("Clothing, Shoes & Jewelry", "Men", "Clothing", "Shirts", "T-Shirts"),
       ("T-Shirt", "Crew Neck T-Shirt", "Graphic Tee", "V-Neck T-Shirt"),
       ("regular fit", "machine wash", "soft material", "slim fit"),
       ("short sleeve", "cotton blend", "crew neck"), ("daily wear", "gym", "summer"),
       {"Color": BASIC_COLORS, "Size": CLOTHING_SIZES}, (9.0, 35.0)),
    _t("women's sandals", ("Clothing, Shoes & Jewelry", "Women", "Shoes", "Sandals",
                           "Flat Sandals"),
       ("Sandals", "Flat Sandals", "Slide Sandals", "Strappy Sandals"),
       ("non slip", "open toe", "comfortable fit", "rubber sole"),
       ("arch support", "ankle strap", "memory foam"), ("beach", "summer", "daily wear"),
       {"Color": BASIC_COLORS, "Size": SHOE_SIZES}, (14.0, 60.0)),
)

FOOD = (
    _t("protein bars", ("Grocery & Gourmet Food", "Snack Foods", "Bars", "Protein Bars"),
       ("Protein Bars", "Protein Bar", "Keto Bar", "Snack Bars"),
       ("gluten free", "low sugar", "non gmo", "high protein", "keto friendly"),
       ("whey protein", "dark chocolate", "almond butter"), ("post workout", "on the go"),
       {"Flavor Name": FLAVORS, "Size": PACKS}, (10.0, 45.0)),
    _t("green tea", ("Grocery & Gourmet Food", "Beverages", "Tea", "Green Tea"),
       ("Green Tea", "Matcha Green Tea", "Jasmine Green Tea", "Tea Bags"),
       ("usda organic", "non gmo", "caffeine free", "sugar free"),
       ("natural ingredients", "individually wrapped", "loose leaf"), ("weight loss", "relaxation"),
       {"Flavor Name": ("Original", "Jasmine", "Lemon", "Mint", "Ginger", "Honey"),
        "Size": PACKS}, (6.0, 30.0)),
    _t("coffee beans", ("Grocery & Gourmet Food", "Beverages", "Coffee", "Whole Coffee Beans"),
       ("Whole Bean Coffee", "Coffee Beans", "Espresso Beans", "Ground Coffee"),
       ("usda organic", "fair trade", "kosher certified", "low acid"),
       ("arabica beans", "dark roast", "medium roast"), ("espresso", "cold brew", "french press"),
       {"Flavor Name": ("Original", "Vanilla", "Hazelnut", "Caramel", "Mocha"),
        "Size": WEIGHTS}, (9.0, 48.0)),
    _t("mixed nuts", ("Grocery & Gourmet Food", "Snack Foods", "Nuts & Seeds", "Mixed Nuts"),
       ("Mixed Nuts", "Roasted Almonds", "Trail Mix", "Cashews"),
       ("gluten free", "non gmo", "kosher certified", "low sodium"),
       ("sea salt", "natural ingredients", "resealable bag"), ("snacking", "on the go"),
       {"Flavor Name": ("Honey Roasted", "Sea Salt", "Unsalted", "Smoked", "Original"),
        "Size": WEIGHTS}, (7.0, 40.0)),
    _t("olive oil", ("Grocery & Gourmet Food", "Pantry Staples", "Cooking & Baking",
                     "Oils, Vinegars & Salad Dressings", "Olive Oil"),
       ("Extra Virgin Olive Oil", "Olive Oil", "Cold Pressed Olive Oil"),
       ("usda organic", "non gmo", "cold pressed", "kosher certified"),
       ("glass bottle", "natural ingredients"), ("cooking", "salad dressing", "baking"),
       {"Size": ("16.9 Fl Oz", "25.5 Fl Oz", "33.8 Fl Oz", "1 Gallon")}, (8.0, 55.0)),
    _t("dark chocolate", ("Grocery & Gourmet Food", "Candy & Chocolate", "Chocolate",
                          "Chocolate Bars"),
       ("Dark Chocolate Bar", "Chocolate Bar", "Chocolate Squares", "Cacao Bar"),
       ("gluten free", "fair trade", "non gmo", "low sugar", "usda organic"),
       ("cocoa butter", "sea salt", "almonds"), ("gift", "snacking"),
       {"Flavor Name": FLAVORS, "Size": PACKS}, (5.0, 38.0)),
    _t("hot sauce", ("Grocery & Gourmet Food", "Condiments & Salad Dressings", "Sauces",
                     "Hot Sauce"),
       ("Hot Sauce", "Chili Sauce", "Sriracha Sauce", "Pepper Sauce"),
       ("gluten free", "sugar free", "vegan", "kosher certified"),
       ("habanero peppers", "natural ingredients", "glass bottle"), ("tacos", "wings", "grilling"),
       {"Flavor Name": ("Original", "Garlic", "Smoked", "Mango Habanero", "Green Chili"),
        "Size": ("5 Fl Oz", "8 Fl Oz", "Pack of 3", "Pack of 6")}, (4.0, 30.0)),
    _t("granola", ("Grocery & Gourmet Food", "Breakfast Foods", "Cereals", "Granola"),
       ("Granola", "Granola Cereal", "Granola Clusters", "Muesli"),
       ("gluten free", "non gmo", "low sugar", "high protein", "vegan"),
       ("whole grain oats", "dried fruit", "almonds"), ("breakfast", "snacking"),
       {"Flavor Name": ("Original", "Cinnamon", "Vanilla Almond", "Mixed Berry", "Honey"),
        "Size": WEIGHTS}, (5.0, 32.0)),
)

FURNITURE = (
    _t("bookshelf", ("Home & Kitchen", "Furniture", "Home Office Furniture", "Bookcases"),
       ("Bookshelf", "Bookcase", "Ladder Shelf", "Storage Shelf"),
       ("easy assemble", "space saving", "heavy duty", "mid century"),
       ("engineered wood", "metal frame", "storage space"), ("living room", "home office"),
       {"Color": WOOD_FINISHES, "Size": FURNITURE_SIZES}, (35.0, 180.0)),
    _t("office chair", ("Home & Kitchen", "Furniture", "Home Office Furniture",
                        "Home Office Chairs", "Desk Chairs"),
       ("Office Chair", "Desk Chair", "Ergonomic Chair", "Task Chair"),
       ("height adjustable", "easy assemble", "ergonomic design", "heavy duty"),
       ("lumbar support", "mesh back", "steel frame"), ("home office", "gaming"),
       {"Color": ("Black", "Grey", "White", "Blue", "Pink")}, (60.0, 260.0)),
    _t("area rug", ("Home & Kitchen", "Home Décor Products", "Area Rugs, Runners & Pads",
                    "Area Rugs"),
       ("Area Rug", "Shag Rug", "Runner Rug", "Washable Rug"),
       ("non slip", "machine washable", "easy clean", "stain resistant"),
       ("soft fabric", "rubber backing"), ("living room", "bedroom", "dining room"),
       {"Color": FABRIC_COLORS, "Size": RUG_SIZES}, (25.0, 220.0)),
    _t("nightstand", ("Home & Kitchen", "Furniture", "Bedroom Furniture", "Nightstands"),
       ("Nightstand", "Bedside Table", "End Table", "Night Stand"),
       ("easy assemble", "space saving", "mid century", "solid wood"),
       ("storage drawer", "open shelf", "metal legs"), ("bedroom", "living room"),
       {"Color": WOOD_FINISHES, "Size": ("1 Drawer", "2 Drawer", "Set of 2")}, (30.0, 150.0)),
    _t("throw pillow covers", ("Home & Kitchen", "Bedding", "Decorative Pillows, Inserts & Covers",
                               "Throw Pillow Covers"),
       ("Throw Pillow Covers", "Pillow Cases", "Cushion Covers", "Pillowcase Set"),
       ("machine wash", "soft material", "easy clean"),
       ("hidden zipper", "velvet fabric", "cotton linen"), ("living room", "sofa", "bedroom"),
       {"Color": FABRIC_COLORS, "Size": ("16 x 16 Inch", "18 x 18 Inch", "20 x 20 Inch",
                                         "Set of 4")}, (9.0, 35.0)),
    _t("shoe rack", ("Home & Kitchen", "Storage & Organization", "Clothing & Closet Storage",
                     "Shoe Organizers", "Free Standing Shoe Racks"),
       ("Shoe Rack", "Shoe Organizer", "Shoe Shelf", "Shoe Storage Bench"),
       ("easy assemble", "space saving", "heavy duty", "non slip"),
       ("metal frame", "bamboo shelves", "storage space"), ("entryway", "closet", "hallway"),
       {"Color": WOOD_FINISHES, "Size": FURNITURE_SIZES}, (18.0, 90.0)),
    _t("blackout curtains", ("Home & Kitchen", "Home Décor Products", "Window Treatments",
                             "Curtains & Drapes", "Panels"),
       ("Blackout Curtains", "Curtain Panels", "Thermal Curtains", "Window Drapes"),
       ("machine washable", "energy saving", "noise reducing", "easy install"),
       ("grommet top", "thermal insulated"), ("bedroom", "living room", "nursery"),
       {"Color": FABRIC_COLORS, "Size": ("52 x 63 Inch", "52 x 84 Inch", "52 x 95 Inch")},
       (15.0, 70.0)),
    _t("scented candles", ("Home & Kitchen", "Home Décor Products", "Candles & Holders",
                           "Candles", "Jar Candles"),
       ("Scented Candle", "Soy Candle", "Jar Candle", "Candle Gift Set"),
       ("long lasting", "non toxic", "hand poured", "clean burning"),
       ("soy wax", "essential oils", "cotton wick"), ("relaxation", "gift", "bathroom"),
       {"Scent": SCENTS, "Size": ("8 Oz", "12 Oz", "Set of 3")}, (10.0, 45.0)),
)

CATEGORIES: dict[str, tuple[dict[str, Any], ...]] = {
    "beauty": BEAUTY, "electronics": ELECTRONICS, "fashion": FASHION, "food": FOOD,
    "furniture": FURNITURE,
}
"""The original's five product categories, each with its product types."""

BRAND_SYLLABLES = ("va", "lo", "ri", "ka", "mo", "ne", "zu", "te", "so", "bri", "dal", "fen",
                   "gor", "hal", "jin", "kor", "lum", "mar", "nov", "pel", "quo", "ros", "sil",
                   "tor", "vel", "wen", "xan", "yor", "zel", "cor")
TITLE_EXTRAS = ("for Women", "for Men", "Unisex", "2 Pack", "Gift Set", "New Version",
                "Upgraded", "Premium", "Value Pack", "2024 Model")
DESCRIPTION_OPENERS = ("Meet the {name}.", "Introducing our {name}.", "Our {name} is here.",
                       "Discover the {name} from {brand}.")
DESCRIPTION_SENTENCES = (
    "It is {attr}, made to last through everyday use.",
    "Designed to be {attr} without compromise.",
    "Customers choose it because it is {attr}.",
    "Every piece is checked to be {attr} before it ships.",
)
BULLET_TEMPLATES = (
    "{ATTR}: {brand} makes every {noun} {attr} for worry-free use.",
    "PREMIUM {WITH}: crafted with {with_} for a better experience.",
    "PERFECT FOR {FOR}: an ideal choice for {for_}.",
    "WHAT YOU GET: {noun} from {brand}, backed by a 30-day return policy.",
    "EASY TO LOVE: {attr} and {attr2}, ready out of the box.",
)
