"""The structured answers each agent role gives (validated by the client; a malformed answer gets a repair prompt).
The coder answers with a ```python block instead: one unit file in the design format (DESIGN §3.2)."""
from __future__ import annotations

from typing import List, Optional

from pydantic import BaseModel, Field


class SearchStep(BaseModel):
    """One literature-search round of the proposer: queries it writes itself, or `ready` to stop searching."""
    keywords: List[str] = Field(default_factory=list)
    description: str = ""
    ready: bool = False


class Proposal(BaseModel):
    name: str = Field(description="a short model name, letters, digits and underscores")
    selected_unit: Optional[str] = Field(None, description="mutation/crossover: the unit of the (first) parent to "
                                                           "redesign; scratch: the new root unit's name")
    abstract: str
    proposal: str = Field(description="what changes, why it should help, and how it keeps causality")


class Review(BaseModel):
    rating: float = Field(ge=0, le=5)          # models often answer 4.5
    review: str
    suggestions: str = ""


class Plan(BaseModel):
    next_unit: str
    reuse_from: Optional[str] = Field(None, description="a unit of the library to reuse as is (its name)")
    notes: str = ""


class Observation(BaseModel):
    rating: float = Field(ge=0, le=5)
    review: str
    suggestions: str = ""
