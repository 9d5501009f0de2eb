/* The default names list for deid's NAME detector: common English-language first names and surnames
 * (frequent in US census and social-security name statistics), and first names that are also common
 * words, which are taken as names only with a following surname-like word or a title. */
#include "data/deid.h"

#include <stddef.h>

const char *const vkft_default_first_names[] = {
    "James",   "Mary",      "John",     "Patricia",  "Robert",      "Jennifer",  "Michael",   "Linda",
    "William", "Elizabeth", "David",    "Barbara",   "Richard",     "Susan",     "Joseph",    "Jessica",
    "Thomas",  "Sarah",     "Charles",  "Karen",     "Christopher", "Nancy",     "Daniel",    "Lisa",
    "Matthew", "Betty",     "Anthony",  "Margaret",  "Donald",      "Sandra",    "Steven",    "Ashley",
    "Paul",    "Kimberly",  "Andrew",   "Emily",     "Joshua",      "Donna",     "Kenneth",   "Michelle",
    "Kevin",   "Dorothy",   "Brian",    "Carol",     "George",      "Amanda",    "Edward",    "Melissa",
    "Ronald",  "Deborah",   "Timothy",  "Stephanie", "Jason",       "Rebecca",   "Jeffrey",   "Sharon",
    "Ryan",    "Laura",     "Jacob",    "Cynthia",   "Gary",        "Kathleen",  "Nicholas",  "Amy",
    "Eric",    "Shirley",   "Jonathan", "Angela",    "Stephen",     "Helen",     "Larry",     "Anna",
    "Justin",  "Brenda",    "Scott",    "Pamela",    "Brandon",     "Nicole",    "Benjamin",  "Emma",
    "Samuel",  "Samantha",  "Gregory",  "Katherine", "Frank",       "Christine", "Alexander", "Debra",
    "Raymond", "Rachel",    "Patrick",  "Catherine", "Jack",        "Carolyn",   "Dennis",    "Janet",
    "Jerry",   "Maria",     "Tyler",    "Heather",   "Aaron",       "Diane",     "Jose",      "Julie",
    "Henry",   "Joyce",     "Adam",     "Victoria",  "Douglas",     "Kelly",     "Nathan",    "Christina",
    "Peter",   "Lauren",    "Zachary",  "Joan",      "Kyle",        "Evelyn",    "Walter",    "Olivia",
    "Harold",  "Judith",    "Jeremy",   "Megan",     "Ethan",       "Cheryl",    "Carl",      "Martha",
    "Keith",   "Andrea",    "Roger",    "Frances",   "Gerald",      "Hannah",    "Christian", "Jacqueline",
    "Terry",   "Ann",       "Sean",     "Gloria",    "Arthur",      "Jean",      "Austin",    "Kathryn",
    "Noah",    "Alice",     "Lawrence", "Teresa",    "Jesse",       "Sara",      "Joe",       "Janice",
    "Bryan",   "Doris",     "Billy",    "Madison",   "Jordan",      "Julia",     "Albert",    "Grace",
    "Dylan",   "Judy",      "Bruce",    "Abigail",   "Willie",      "Marie",     "Gabriel",   "Denise",
    "Alan",    "Beverly",   "Juan",     "Amber",     "Logan",       "Theresa",   "Wayne",     "Marilyn",
    "Ralph",   "Danielle",  "Roy",      "Diana",     "Eugene",      "Brittany",  "Randy",     "Natalie",
    "Vincent", "Sophia",    "Russell",  "Alexis",    "Louis",       "Lori",      "Philip",    "Kayla",
    "Bobby",   "Jane",      "Johnny",   "Isabella",  "Bradley",     "Olga",      "Liam",      "Mia",
    "Lucas",   "Chloe",     "Mohammed", "Fatima",    "Ahmed",       "Aisha",     "Wei",       "Mei",
    "Hiroshi", "Yuki",      "Carlos",   "Sofia",     "Miguel",      "Lucia",     "Pierre",    "Claire",
    "Hans",    "Ingrid",    "Ivan",     "Elena",     "Raj",         "Priya",     "Omar",      "Leila",
    "Kwame",   "Amara",     NULL};

const char *const vkft_default_surnames[] = {
    "Smith",     "Johnson",  "Williams",  "Brown",    "Jones",    "Garcia",   "Miller",   "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez",    "Gonzalez", "Wilson",   "Anderson", "Thomas",
    "Taylor",    "Moore",    "Jackson",   "Martin",   "Lee",      "Perez",    "Thompson", "White",
    "Harris",    "Sanchez",  "Clark",     "Ramirez",  "Lewis",    "Robinson", "Walker",   "Young",
    "Allen",     "King",     "Wright",    "Scott",    "Torres",   "Nguyen",   "Hill",     "Flores",
    "Green",     "Adams",    "Nelson",    "Baker",    "Hall",     "Rivera",   "Campbell", "Mitchell",
    "Carter",    "Roberts",  "Gomez",     "Phillips", "Evans",    "Turner",   "Diaz",     "Parker",
    "Cruz",      "Edwards",  "Collins",   "Reyes",    "Stewart",  "Morris",   "Morales",  "Murphy",
    "Cook",      "Rogers",   "Gutierrez", "Ortiz",    "Morgan",   "Cooper",   "Peterson", "Bailey",
    "Reed",      "Kelly",    "Howard",    "Ramos",    "Kim",      "Cox",      "Ward",     "Richardson",
    "Watson",    "Brooks",   "Chavez",    "Wood",     "James",    "Bennett",  "Gray",     "Mendoza",
    "Ruiz",      "Hughes",   "Price",     "Alvarez",  "Castillo", "Sanders",  "Patel",    "Myers",
    "Long",      "Ross",     "Foster",    "Jimenez",  "Chen",     "Wang",     "Li",       "Zhang",
    "Liu",       "Singh",    "Kumar",     "Khan",     "Ali",      "Müller",   "Schmidt",  "Schneider",
    "Fischer",   "Dubois",   "Rossi",     "Russo",    "Tanaka",   "Suzuki",   "Sato",     "Ivanov",
    "Novak",     "Kowalski", "O'Brien",   "Murray",   NULL};

/* first names that are also ordinary words or month names */
const char *const vkft_ambiguous_names[] = {
    "May",   "June",  "April",  "August", "Will",     "Grant",  "Bill",   "Mark",    "Rose",      "Hope",
    "Faith", "Joy",   "Summer", "Art",    "Dawn",     "Iris",   "Jack",   "Frank",   "Grace",     "Long",
    "Young", "King",  "Green",  "Hill",   "Wood",     "Price",  "Gray",   "White",   "Brown",     "Reed",
    "Cook",  "Ward",  "Rich",   "Sunny",  "Victoria", "Jordan", "Austin", "Madison", "Christian", "Lee",
    "Kelly", "Amber", "Page",   "Sky",    "Ray",      "Guy",    NULL};
