"""A suggested script for people who record footage for a twin.

About two minutes read aloud. It is written so that every English mouth shape appears many times:
lips pressed (p, b, m), lip on teeth (f, v), rounded (oo, w, o), wide open (a, ah), spread (ee),
tongue between teeth (th), and the quiet rests between sentences that teach the twin to close its
mouth. Reading it calmly, facing the camera, gives the mouth bank what it needs.
"""

RECORDING_SCRIPT = """\
Hello! My name is on the screen, and this is my voice. I am recording a few minutes of video so that a \
digital twin can learn how my face moves when I speak.

Let me start with a simple story. Every morning at about five past seven, I walk my big brown dog Bob \
to the park by the river. We pass the bakery, where the smell of warm bread and fresh coffee fills the \
whole street. Bob always stops by the blue bench, because a woman there feeds him a biscuit.

Some people ask why I wake up so early. Honestly, the quiet is the best part of the day. The water is \
smooth, the birds are loud, and the whole town seems to be waiting for something to happen.

Now a few numbers: one, two, three, four, five, six, seven, eight, nine, ten. Twenty-two, \
forty-four, ninety-nine, and one hundred and fifteen.

Think about the things you value most. For me it's family, food, a few good books, and a very \
long walk on a cool evening. Would you rather have a huge house far away, or a tiny flat in the \
middle of the city? I would choose the view over the room, every time.

Peter Piper picked a peck of pickled peppers. She sells seashells by the seashore. Which witch \
wished which wicked wish? Five fine friends found a few fresh figs.

Oh, wow! Ah, that's amazing. Ah, a palm, a calm spa, father's car. Ahh. Oops, I almost forgot. Umm, let me think. Yes, absolutely. No, \
thank you. Maybe tomorrow. Why not today?

Thank you for watching. I'll pause for a moment now, with my mouth gently closed, and then smile.\
"""
