"""Reads a CloudFormation/SAM template with its short tags (!Ref, !GetAtt,
!Sub, ...) as their long forms. Shared by scripts/lint-infra.sh and
scripts/iam-moto.py."""
from pathlib import Path

import yaml


class CfnLoader(yaml.SafeLoader):
    pass


def _cfn_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::" + suffix: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def load(path: Path):
    return yaml.load(Path(path).read_text(), Loader=CfnLoader)
