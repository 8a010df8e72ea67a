"""demo-orq's policy pack: the rules every Kubernetes object of the program must follow.

Run it with a preview or an update of the project (from the repository's root):
    pulumi preview --policy-pack policy
The engine starts this file through the Python language host; constructing the PolicyPack serves
the rules to the engine until it is done. The rules themselves are in rules/.
"""

from pulumi_policy import PolicyPack
from rules import POLICIES

PolicyPack(name="demo-orq-kubernetes", policies=POLICIES)
