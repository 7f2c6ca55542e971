"""The problem set written for turnrl: 65 small problems across the three test formats (22 stdin
/ stdout, 22 call-based, 21 assert lists), each with a canonical solution and hand-computed
tests. Small on purpose: they exercise the formats, the judge and multi-turn feedback, and a
small model can learn some of them. ``turnrl check code`` runs every canonical solution against
its tests in the sandbox.

Long by nature (it is data); every helper here only builds the problem dicts.
"""

from __future__ import annotations

import json
from typing import Any


def _stdio(pid: str, prompt: str, solution: str, cases: list[tuple[str, str]]) -> dict[str, Any]:
    return {"id": pid, "format": "stdio", "solution": solution.strip() + "\n",
            "prompt": prompt + " Read from standard input and write to standard output.",
            "tests": {"inputs": [i for i, _ in cases], "outputs": [o for _, o in cases]}}


def _call(pid: str, fn: str, prompt: str, solution: str,
          cases: list[tuple[tuple[Any, ...], Any]]) -> dict[str, Any]:
    return {"id": pid, "format": "call", "solution": solution.strip() + "\n",
            "prompt": prompt + f" Define the function `{fn}`; do not read input or print.",
            "tests": {"fn_name": fn,
                      "inputs": ["\n".join(json.dumps(a) for a in args) for args, _ in cases],
                      "outputs": [json.dumps(out) for _, out in cases]}}


def _assert(pid: str, prompt: str, solution: str, tests: list[str],
            setup: str = "") -> dict[str, Any]:
    steps = ([{"code": setup, "test": False}] if setup else []) + \
        [{"code": t, "test": True} for t in tests]
    shown = "\n".join(tests[:2])
    return {"id": pid, "format": "assert", "solution": solution.strip() + "\n",
            "prompt": f"{prompt} Your code should pass tests like:\n{shown}",
            "tests": {"steps": steps, "entry_point": ""}}


STDIO = [
    _stdio("stdio-sum", "Print the sum of the two integers on the input line.",
           "a, b = map(int, input().split())\nprint(a + b)",
           [("1 2\n", "3\n"), ("-5 7\n", "2\n"), ("1000000000 1000000000\n", "2000000000\n")]),
    _stdio("stdio-reverse", "Print the input line reversed.",
           "print(input()[::-1])",
           [("hello\n", "olleh\n"), ("abc de\n", "ed cba\n"), ("a\n", "a\n")]),
    _stdio("stdio-vowels", "Print how many vowels (a, e, i, o, u, either case) the line has.",
           "print(sum(c in 'aeiouAEIOU' for c in input()))",
           [("hello world\n", "3\n"), ("AEIOU xyz\n", "5\n"), ("rhythm\n", "0\n")]),
    _stdio("stdio-fizzbuzz", "Given n, print the numbers 1..n one per line, but Fizz for "
           "multiples of 3, Buzz for multiples of 5 and FizzBuzz for multiples of both.",
           "n = int(input())\nfor i in range(1, n + 1):\n    print('FizzBuzz' if i % 15 == 0 "
           "else 'Fizz' if i % 3 == 0 else 'Buzz' if i % 5 == 0 else i)",
           [("5\n", "1\n2\nFizz\n4\nBuzz\n"), ("1\n", "1\n"),
            ("15\n", "1\n2\nFizz\n4\nBuzz\nFizz\n7\n8\nFizz\nBuzz\n11\nFizz\n13\n14\nFizzBuzz\n")]),
    _stdio("stdio-max", "The first line holds n, the second n integers. Print the largest.",
           "input()\nprint(max(map(int, input().split())))",
           [("3\n1 5 2\n", "5\n"), ("1\n-7\n", "-7\n"), ("4\n-1 -2 -3 -4\n", "-1\n")]),
    _stdio("stdio-average", "The first line holds n, the second n integers. Print their mean.",
           "input()\nxs = list(map(int, input().split()))\nprint(sum(xs) / len(xs))",
           [("3\n1 2 4\n", "2.3333333333\n"), ("2\n1 2\n", "1.5\n"), ("1\n5\n", "5\n")]),
    _stdio("stdio-prime", "Print YES if the integer n is prime, NO otherwise.",
           "n = int(input())\nprint('YES' if n > 1 and all(n % d for d in range(2, int(n ** 0.5)"
           " + 1)) else 'NO')",
           [("2\n", "YES\n"), ("1\n", "NO\n"), ("97\n", "YES\n"), ("91\n", "NO\n")]),
    _stdio("stdio-gcd", "Print the greatest common divisor of the two integers.",
           "import math\na, b = map(int, input().split())\nprint(math.gcd(a, b))",
           [("12 18\n", "6\n"), ("17 5\n", "1\n"), ("0 9\n", "9\n")]),
    _stdio("stdio-words", "Print how many whitespace-separated words the line has.",
           "print(len(input().split()))",
           [("the quick brown fox\n", "4\n"), ("  spaced   out  \n", "2\n"), ("single\n", "1\n")]),
    _stdio("stdio-palindrome", "Print YES if the line reads the same backwards (case "
           "matters), NO otherwise.",
           "s = input()\nprint('YES' if s == s[::-1] else 'NO')",
           [("racecar\n", "YES\n"), ("abca\n", "NO\n"), ("a\n", "YES\n"), ("Aa\n", "NO\n")]),
    _stdio("stdio-sort", "The first line holds n, the second n integers. Print them in "
           "increasing order, space separated.",
           "input()\nprint(*sorted(map(int, input().split())))",
           [("5\n3 1 4 1 5\n", "1 1 3 4 5\n"), ("1\n0\n", "0\n"),
            ("3\n-1 10 -20\n", "-20 -1 10\n")]),
    _stdio("stdio-factorial", "Print n! for the given n >= 0.",
           "import math\nprint(math.factorial(int(input())))",
           [("0\n", "1\n"), ("5\n", "120\n"), ("20\n", "2432902008176640000\n")]),
    _stdio("stdio-fibonacci", "Print the n-th Fibonacci number (F0 = 0, F1 = 1).",
           "a, b = 0, 1\nfor _ in range(int(input())):\n    a, b = b, a + b\nprint(a)",
           [("0\n", "0\n"), ("1\n", "1\n"), ("10\n", "55\n"), ("50\n", "12586269025\n")]),
    _stdio("stdio-digit-sum", "Print the sum of the decimal digits of the given number.",
           "print(sum(int(c) for c in input().strip()))",
           [("12345\n", "15\n"), ("0\n", "0\n"), ("9999999999\n", "90\n")]),
    _stdio("stdio-binary", "Print the binary representation of n >= 0 without a prefix.",
           "print(bin(int(input()))[2:])",
           [("5\n", "101\n"), ("0\n", "0\n"), ("255\n", "11111111\n")]),
    _stdio("stdio-distinct", "The first line holds n, the second n integers. Print how many "
           "distinct values there are.",
           "input()\nprint(len(set(input().split())))",
           [("6\n1 2 2 3 3 3\n", "3\n"), ("1\n7\n", "1\n"), ("4\n5 5 5 5\n", "1\n")]),
    _stdio("stdio-triangle", "Given n, print n lines: line i has i stars.",
           "for i in range(1, int(input()) + 1):\n    print('*' * i)",
           [("3\n", "*\n**\n***\n"), ("1\n", "*\n"), ("4\n", "*\n**\n***\n****\n")]),
    _stdio("stdio-second-largest", "The first line holds n, the second n integers. Print the "
           "second largest distinct value, or NONE if there is none.",
           "input()\nxs = sorted(set(map(int, input().split())))\n"
           "print(xs[-2] if len(xs) > 1 else 'NONE')",
           [("5\n1 3 3 2 5\n", "3\n"), ("2\n4 4\n", "NONE\n"), ("3\n10 20 10\n", "10\n")]),
    _stdio("stdio-transpose", "The first line holds r and c, then r lines of c integers. "
           "Print the transposed matrix (c lines of r integers).",
           "r, c = map(int, input().split())\nm = [input().split() for _ in range(r)]\n"
           "for j in range(c):\n    print(*(m[i][j] for i in range(r)))",
           [("2 3\n1 2 3\n4 5 6\n", "1 4\n2 5\n3 6\n"), ("1 1\n7\n", "7\n"),
            ("3 1\n1\n2\n3\n", "1 2 3\n")]),
    _stdio("stdio-word-frequency", "Print the most frequent word of the line and its count, "
           "separated by a space; break ties by the alphabetically smallest word.",
           "from collections import Counter\nc = Counter(input().split())\n"
           "w = min(c, key=lambda k: (-c[k], k))\nprint(w, c[w])",
           [("a b a c b a\n", "a 3\n"), ("x y\n", "x 1\n"), ("dog cat cat dog\n", "cat 2\n")]),
    _stdio("stdio-running-sum", "The first line holds n, the second n integers. Print their "
           "running sums, space separated.",
           "import itertools\ninput()\nprint(*itertools.accumulate(map(int, input().split())))",
           [("4\n1 2 3 4\n", "1 3 6 10\n"), ("1\n5\n", "5\n"), ("3\n-1 1 -1\n", "-1 0 -1\n")]),
    _stdio("stdio-caesar", "The first line holds k, the second lowercase words. Shift every "
           "letter k places forward in the alphabet (wrapping around) and print the line.",
           "k = int(input())\nprint(''.join(chr((ord(c) - 97 + k) % 26 + 97) if c.isalpha() "
           "else c for c in input()))",
           [("3\nabc xyz\n", "def abc\n"), ("0\nhello\n", "hello\n"), ("25\nb\n", "a\n")]),
]

CALL = [
    _call("call-two-sum", "two_sum", "Return the indices [i, j] (i < j) of the two numbers in "
          "nums that add up to target; exactly one pair does.",
          "def two_sum(nums, target):\n    seen = {}\n    for j, x in enumerate(nums):\n"
          "        if target - x in seen:\n            return [seen[target - x], j]\n"
          "        seen[x] = j",
          [(([2, 7, 11, 15], 9), [0, 1]), (([3, 2, 4], 6), [1, 2]), (([3, 3], 6), [0, 1])]),
    _call("call-anagram", "is_anagram", "Return whether string b is an anagram of string a.",
          "def is_anagram(a, b):\n    return sorted(a) == sorted(b)",
          [(("listen", "silent"), True), (("rat", "car"), False), (("", ""), True)]),
    _call("call-max-subarray", "max_subarray", "Return the largest sum of a non-empty "
          "contiguous subarray of nums.",
          "def max_subarray(nums):\n    best = cur = nums[0]\n    for x in nums[1:]:\n"
          "        cur = max(x, cur + x)\n        best = max(best, cur)\n    return best",
          [(([-2, 1, -3, 4, -1, 2, 1, -5, 4],), 6), (([1],), 1), (([-3, -1, -2],), -1)]),
    _call("call-parentheses", "valid_parentheses", "Return whether the brackets ()[]{} in s "
          "are balanced and properly nested.",
          "def valid_parentheses(s):\n    pairs = {')': '(', ']': '[', '}': '{'}\n"
          "    stack = []\n    for c in s:\n        if c in pairs:\n"
          "            if not stack or stack.pop() != pairs[c]:\n                return False\n"
          "        else:\n            stack.append(c)\n    return not stack",
          [(("()[]{}",), True), (("(]",), False), (("([)]",), False), (("{[]}",), True)]),
    _call("call-merge-intervals", "merge_intervals", "Merge overlapping (or touching) "
          "intervals [start, end] and return them sorted by start.",
          "def merge_intervals(intervals):\n    out = []\n    for s, e in sorted(intervals):\n"
          "        if out and s <= out[-1][1]:\n            out[-1][1] = max(out[-1][1], e)\n"
          "        else:\n            out.append([s, e])\n    return out",
          [(([[1, 3], [2, 6], [8, 10], [15, 18]],), [[1, 6], [8, 10], [15, 18]]),
           (([[1, 4], [4, 5]],), [[1, 5]]), (([[5, 6]],), [[5, 6]])]),
    _call("call-climb-stairs", "climb_stairs", "Return in how many ways n stairs can be "
          "climbed taking 1 or 2 steps at a time.",
          "def climb_stairs(n):\n    a, b = 1, 1\n    for _ in range(n):\n        a, b = b, a + b\n"
          "    return a",
          [((1,), 1), ((2,), 2), ((5,), 8), ((10,), 89)]),
    _call("call-rotate", "rotate_list", "Return nums rotated right by k places.",
          "def rotate_list(nums, k):\n    if not nums:\n        return []\n    k %= len(nums)\n"
          "    return nums[-k:] + nums[:-k] if k else list(nums)",
          [(([1, 2, 3, 4, 5], 2), [4, 5, 1, 2, 3]), (([1], 3), [1]), (([1, 2], 0), [1, 2]),
           (([1, 2, 3], 4), [3, 1, 2])]),
    _call("call-islands", "count_islands", "grid is a list of rows of 0/1. Return how many "
          "islands (groups of 1s joined up, down, left or right) it has.",
          "def count_islands(grid):\n    seen = set()\n    count = 0\n"
          "    for r in range(len(grid)):\n        for c in range(len(grid[0])):\n"
          "            if grid[r][c] == 1 and (r, c) not in seen:\n                count += 1\n"
          "                todo = [(r, c)]\n                while todo:\n"
          "                    i, j = todo.pop()\n                    if (i, j) in seen or not "
          "(0 <= i < len(grid) and 0 <= j < len(grid[0])) or grid[i][j] != 1:\n"
          "                        continue\n                    seen.add((i, j))\n"
          "                    todo += [(i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)]\n"
          "    return count",
          [(([[1, 1, 0], [0, 1, 0], [1, 0, 1]],), 3), (([[0]],), 0), (([[1, 1], [1, 1]],), 1)]),
    _call("call-roman-to-int", "roman_to_int", "Return the value of the Roman numeral s.",
          "def roman_to_int(s):\n    v = {'I': 1, 'V': 5, 'X': 10, 'L': 50, 'C': 100, 'D': 500,"
          " 'M': 1000}\n    total = 0\n    for i, c in enumerate(s):\n"
          "        if i + 1 < len(s) and v[c] < v[s[i + 1]]:\n            total -= v[c]\n"
          "        else:\n            total += v[c]\n    return total",
          [(("III",), 3), (("LVIII",), 58), (("MCMXCIV",), 1994)]),
    _call("call-int-to-roman", "int_to_roman", "Return n (1..3999) as a Roman numeral.",
          "def int_to_roman(n):\n    table = [(1000, 'M'), (900, 'CM'), (500, 'D'), (400, 'CD'),"
          " (100, 'C'), (90, 'XC'), (50, 'L'), (40, 'XL'), (10, 'X'), (9, 'IX'), (5, 'V'), "
          "(4, 'IV'), (1, 'I')]\n    out = ''\n    for value, sym in table:\n"
          "        while n >= value:\n            out += sym\n            n -= value\n"
          "    return out",
          [((4,), "IV"), ((9,), "IX"), ((58,), "LVIII"), ((1994,), "MCMXCIV")]),
    _call("call-common-prefix", "longest_common_prefix", "Return the longest common prefix "
          "of the list of words.",
          "import os\ndef longest_common_prefix(words):\n    return os.path.commonprefix(words)",
          [((["flower", "flow", "flight"],), "fl"), ((["dog", "racecar", "car"],), ""),
           ((["a"],), "a")]),
    _call("call-binary-search", "binary_search", "nums is sorted. Return the index of target "
          "in nums, or -1.",
          "def binary_search(nums, target):\n    lo, hi = 0, len(nums) - 1\n"
          "    while lo <= hi:\n        mid = (lo + hi) // 2\n        if nums[mid] == target:\n"
          "            return mid\n        if nums[mid] < target:\n            lo = mid + 1\n"
          "        else:\n            hi = mid - 1\n    return -1",
          [(([-1, 0, 3, 5, 9, 12], 9), 4), (([-1, 0, 3, 5, 9, 12], 2), -1), (([5], 5), 0)]),
    _call("call-product-except-self", "product_except_self", "Return a list whose i-th entry "
          "is the product of all numbers of nums except nums[i].",
          "def product_except_self(nums):\n    out = []\n    for i in range(len(nums)):\n"
          "        p = 1\n        for j, x in enumerate(nums):\n            if j != i:\n"
          "                p *= x\n        out.append(p)\n    return out",
          [(([1, 2, 3, 4],), [24, 12, 8, 6]), (([-1, 1, 0, -3, 3],), [0, 0, 9, 0, 0]),
           (([2, 3],), [3, 2])]),
    _call("call-flatten", "flatten", "Return the integers of an arbitrarily nested list, in "
          "order, as one flat list.",
          "def flatten(nested):\n    out = []\n    for x in nested:\n"
          "        out.extend(flatten(x) if isinstance(x, list) else [x])\n    return out",
          [(([1, [2, [3, 4]], 5],), [1, 2, 3, 4, 5]), (([],), []), (([[[]], [1]],), [1])]),
    _call("call-word-lengths", "word_lengths", "Return a dict mapping each word of the "
          "sentence to its length.",
          "def word_lengths(sentence):\n    return {w: len(w) for w in sentence.split()}",
          [(("hi there",), {"hi": 2, "there": 5}), (("",), {}), (("a a",), {"a": 1})]),
    _call("call-matmul", "matrix_multiply", "Return the matrix product of a and b (lists of "
          "rows).",
          "def matrix_multiply(a, b):\n    return [[sum(x * y for x, y in zip(row, col)) for col"
          " in zip(*b)] for row in a]",
          [(([[1, 2], [3, 4]], [[5, 6], [7, 8]]), [[19, 22], [43, 50]]),
           (([[1]], [[2]]), [[2]]), (([[1, 2, 3]], [[1], [2], [3]]), [[14]])]),
    _call("call-median", "median", "Return the median of the non-empty list of numbers.",
          "def median(nums):\n    s = sorted(nums)\n    n = len(s)\n"
          "    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2",
          [(([1, 3, 2],), 2), (([1, 2, 3, 4],), 2.5), (([5],), 5)]),
    _call("call-lis", "lis_length", "Return the length of the longest strictly increasing "
          "subsequence of nums.",
          "import bisect\ndef lis_length(nums):\n    tails = []\n    for x in nums:\n"
          "        i = bisect.bisect_left(tails, x)\n        tails[i:i + 1] = [x]\n"
          "    return len(tails)",
          [(([10, 9, 2, 5, 3, 7, 101, 18],), 4), (([0, 1, 0, 3, 2, 3],), 4), (([7, 7, 7],), 1)]),
    _call("call-edit-distance", "edit_distance", "Return the Levenshtein distance between "
          "strings a and b.",
          "def edit_distance(a, b):\n    prev = list(range(len(b) + 1))\n"
          "    for i, x in enumerate(a, 1):\n        cur = [i]\n"
          "        for j, y in enumerate(b, 1):\n"
          "            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))\n"
          "        prev = cur\n    return prev[-1]",
          [(("horse", "ros"), 3), (("intention", "execution"), 5), (("", "abc"), 3)]),
    _call("call-coin-change", "coin_change", "Return the fewest coins that make up amount, "
          "or -1 if it cannot be made.",
          "def coin_change(coins, amount):\n    best = [0] + [None] * amount\n"
          "    for a in range(1, amount + 1):\n"
          "        options = [best[a - c] for c in coins if c <= a and best[a - c] is not None]\n"
          "        best[a] = min(options) + 1 if options else None\n"
          "    return -1 if best[amount] is None else best[amount]",
          [(([1, 2, 5], 11), 3), (([2], 3), -1), (([1], 0), 0)]),
    _call("call-parity", "group_by_parity", "Return [evens, odds]: the even and the odd "
          "numbers of nums, each in their original order.",
          "def group_by_parity(nums):\n    return [[x for x in nums if x % 2 == 0], "
          "[x for x in nums if x % 2]]",
          [(([1, 2, 3, 4],), [[2, 4], [1, 3]]), (([],), [[], []]), (([7],), [[], [7]])]),
    _call("call-longest-substring", "length_of_longest_substring", "LeetCode style: in a "
          "class Solution, write the method length_of_longest_substring(self, s) returning the "
          "length of the longest substring of s without repeated characters.",
          "class Solution:\n    def length_of_longest_substring(self, s):\n"
          "        start, best, last = 0, 0, {}\n        for i, c in enumerate(s):\n"
          "            if last.get(c, -1) >= start:\n                start = last[c] + 1\n"
          "            last[c] = i\n            best = max(best, i - start + 1)\n"
          "        return best",
          [(("abcabcbb",), 3), (("bbbbb",), 1), (("pwwkew",), 3), (("",), 0)]),
]

ASSERT = [
    _assert("assert-square", "Write a function square(x) that returns x squared.",
            "def square(x):\n    return x * x",
            ["assert square(3) == 9", "assert square(-2) == 4", "assert square(0) == 0"]),
    _assert("assert-is-even", "Write a function is_even(n) that tells whether n is even.",
            "def is_even(n):\n    return n % 2 == 0",
            ["assert is_even(4) is True", "assert is_even(7) is False",
             "assert is_even(0) is True", "assert is_even(-3) is False"]),
    _assert("assert-count-char", "Write a function count_char(s, c) that counts how often "
            "character c occurs in s.",
            "def count_char(s, c):\n    return s.count(c)",
            ["assert count_char('banana', 'a') == 3", "assert count_char('banana', 'z') == 0",
             "assert count_char('', 'a') == 0"]),
    _assert("assert-dedupe", "Write a function remove_duplicates(items) that keeps the first "
            "occurrence of each item, in order.",
            "def remove_duplicates(items):\n    return list(dict.fromkeys(items))",
            ["assert remove_duplicates([1, 2, 1, 3, 2]) == [1, 2, 3]",
             "assert remove_duplicates([]) == []",
             "assert remove_duplicates(['b', 'a', 'b']) == ['b', 'a']"]),
    _assert("assert-capitalize", "Write a function capitalize_words(s) that upper-cases the "
            "first letter of every space-separated word.",
            "def capitalize_words(s):\n    return ' '.join(w[:1].upper() + w[1:] for w in "
            "s.split(' '))",
            ["assert capitalize_words('hello world') == 'Hello World'",
             "assert capitalize_words('a') == 'A'",
             "assert capitalize_words('already Done') == 'Already Done'"]),
    _assert("assert-argmax", "Write a function find_max_index(items) that returns the index "
            "of the first largest item.",
            "def find_max_index(items):\n    return items.index(max(items))",
            ["assert find_max_index([1, 3, 2]) == 1", "assert find_max_index([5, 5]) == 0",
             "assert find_max_index([-1]) == 0"]),
    _assert("assert-chunk", "Write a function chunk(items, n) that splits items into "
            "consecutive lists of length n (the last may be shorter).",
            "def chunk(items, n):\n    return [items[i:i + n] for i in range(0, len(items), n)]",
            ["assert chunk([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]",
             "assert chunk([], 3) == []", "assert chunk([1, 2], 5) == [[1, 2]]"]),
    _assert("assert-leap-year", "Write a function is_leap_year(year) (Gregorian rules).",
            "def is_leap_year(year):\n    return year % 4 == 0 and (year % 100 != 0 or "
            "year % 400 == 0)",
            ["assert is_leap_year(2000)", "assert not is_leap_year(1900)",
             "assert is_leap_year(2024)", "assert not is_leap_year(2023)"]),
    _assert("assert-fahrenheit", "Write a function celsius_to_fahrenheit(c).",
            "def celsius_to_fahrenheit(c):\n    return c * 9 / 5 + 32",
            ["assert abs(celsius_to_fahrenheit(100) - 212) < 1e-9",
             "assert abs(celsius_to_fahrenheit(-40) + 40) < 1e-9",
             "assert abs(celsius_to_fahrenheit(37) - 98.6) < 1e-9"]),
    _assert("assert-unique-sorted", "Write a function unique_sorted(items) returning the "
            "distinct items in increasing order.",
            "def unique_sorted(items):\n    return sorted(set(items))",
            ["assert unique_sorted([3, 1, 3, 2]) == [1, 2, 3]", "assert unique_sorted([]) == []",
             "assert unique_sorted(['b', 'a', 'b']) == ['a', 'b']"]),
    _assert("assert-histogram", "Write a function char_histogram(s) returning a dict from "
            "each character to its count.",
            "def char_histogram(s):\n    out = {}\n    for c in s:\n"
            "        out[c] = out.get(c, 0) + 1\n    return out",
            ["assert char_histogram('abca') == {'a': 2, 'b': 1, 'c': 1}",
             "assert char_histogram('') == {}", "assert char_histogram('zz') == {'z': 2}"]),
    _assert("assert-dot", "Write a function dot_product(a, b) for two equally long lists.",
            "def dot_product(a, b):\n    return sum(x * y for x, y in zip(a, b))",
            ["assert dot_product([1, 2, 3], [4, 5, 6]) == 32", "assert dot_product([], []) == 0",
             "assert dot_product([-1], [1]) == -1"]),
    _assert("assert-snake-case", "Write a function to_snake_case(name) turning CamelCase into "
            "snake_case.",
            "def to_snake_case(name):\n    out = ''\n    for i, c in enumerate(name):\n"
            "        if c.isupper() and i:\n            out += '_'\n        out += c.lower()\n"
            "    return out",
            ["assert to_snake_case('HelloWorld') == 'hello_world'",
             "assert to_snake_case('A') == 'a'",
             "assert to_snake_case('parseHTTPx') == 'parse_h_t_t_px'"]),
    _assert("assert-digit-words", "Write a function digits_to_words(n) spelling each digit of "
            "n >= 0 as an English word, space separated.",
            "def digits_to_words(n):\n    names = ['zero', 'one', 'two', 'three', 'four', "
            "'five', 'six', 'seven', 'eight', 'nine']\n"
            "    return ' '.join(names[int(d)] for d in str(n))",
            ["assert digits_to_words(123) == 'one two three'",
             "assert digits_to_words(0) == 'zero'", "assert digits_to_words(90) == 'nine zero'"]),
    _assert("assert-pangram", "Write a function is_pangram(s) telling whether s uses every "
            "letter a-z (ignoring case).",
            "def is_pangram(s):\n    return set('abcdefghijklmnopqrstuvwxyz') <= set(s.lower())",
            ["assert is_pangram('The quick brown fox jumps over the lazy dog')",
             "assert not is_pangram('hello')", "assert not is_pangram('')"]),
    _assert("assert-nth-prime", "Write a function nth_prime(n): the n-th prime (nth_prime(1) "
            "== 2).",
            "def nth_prime(n):\n    count, k = 0, 1\n    while count < n:\n        k += 1\n"
            "        if all(k % d for d in range(2, int(k ** 0.5) + 1)):\n            count += 1\n"
            "    return k",
            ["assert nth_prime(1) == 2", "assert nth_prime(5) == 11",
             "assert nth_prime(10) == 29"]),
    _assert("assert-compress", "Write a function compress(s): run-length encoding, each "
            "character followed by its run length.",
            "import itertools\ndef compress(s):\n    return ''.join(f'{c}{len(list(g))}' for c, g "
            "in itertools.groupby(s))",
            ["assert compress('aaabcc') == 'a3b1c2'", "assert compress('') == ''",
             "assert compress('z') == 'z1'"]),
    _assert("assert-triangle", "Write a function triangle_type(a, b, c) returning "
            "'equilateral', 'isosceles', 'scalene' or 'invalid' (sides that cannot form a "
            "triangle with positive area).",
            "def triangle_type(a, b, c):\n    x, y, z = sorted((a, b, c))\n    if x <= 0 or "
            "x + y <= z:\n        return 'invalid'\n    if x == z:\n        return 'equilateral'\n"
            "    return 'isosceles' if x == y or y == z else 'scalene'",
            ["assert triangle_type(2, 2, 2) == 'equilateral'",
             "assert triangle_type(2, 2, 3) == 'isosceles'",
             "assert triangle_type(3, 4, 5) == 'scalene'",
             "assert triangle_type(1, 2, 3) == 'invalid'"]),
    _assert("assert-sort-copy", "Write a function sort_copy(items) returning a sorted copy "
            "without changing items.",
            "def sort_copy(items):\n    return sorted(items)",
            ["assert sort_copy(data) == [1, 2, 3]", "sort_copy(data)\nassert data == [3, 1, 2]",
             "assert sort_copy([]) == []"],
            setup="data = [3, 1, 2]"),
    _assert("assert-stack", "Write a class Stack with push(x), pop() (returns the top item) "
            "and __len__.",
            "class Stack:\n    def __init__(self):\n        self.items = []\n"
            "    def push(self, x):\n        self.items.append(x)\n    def pop(self):\n"
            "        return self.items.pop()\n    def __len__(self):\n"
            "        return len(self.items)",
            ["s = Stack()\ns.push(1)\ns.push(2)\nassert s.pop() == 2",
             "s = Stack()\nassert len(s) == 0\ns.push(5)\nassert len(s) == 1",
             "s = Stack()\ns.push('a')\ns.push('b')\ns.pop()\nassert s.pop() == 'a'"]),
    _assert("assert-flatten-dict", "Write a function flatten_dict(d) joining nested keys with "
            "dots: {'a': {'b': 1}} -> {'a.b': 1}.",
            "def flatten_dict(d, prefix=''):\n    out = {}\n    for k, v in d.items():\n"
            "        key = prefix + k\n        if isinstance(v, dict):\n"
            "            out.update(flatten_dict(v, key + '.'))\n        else:\n"
            "            out[key] = v\n    return out",
            ["assert flatten_dict({'a': {'b': 1}}) == {'a.b': 1}",
             "assert flatten_dict({}) == {}",
             "assert flatten_dict({'x': 1, 'y': {'z': {'w': 2}}}) == {'x': 1, 'y.z.w': 2}"]),
]

PROBLEMS: list[dict[str, Any]] = STDIO + CALL + ASSERT
