#pragma once
// A SentencePiece model renumbered into another id space: piece i of the new model is `pieces[i]`.
// A Marian model's two SentencePiece models (source.spm, target.spm) each number their pieces
// their own way, while the model's embeddings are indexed by vocab.json's joint ids; renumbered,
// each encodes straight into those ids and decodes from them, as transformers' MarianTokenizer
// does through its dictionary. Pieces of the joint list that the model lacks are kept as unused
// (never produced by encoding; decoded as their text), so that every id names one piece.
//
// Works on SentencePiece's serialized form (protobuf, read and written at the wire level, so
// that no protobuf library is needed); everything but the pieces and the special ids is kept.

#include <string>
#include <vector>

namespace heed {

struct RenumberedIds {
  int unk = 1;   // <unk>
  int eos = 0;   // </s>
  int pad = -1;  // <pad>, or -1 for none
};

// `what` names the model in errors: a piece the model has and the list lacks, which would
// change how text is cut, is refused.
std::string renumber_pieces(const std::string& serialized, const std::vector<std::string>& pieces,
                            const RenumberedIds& ids, const std::string& what);

}  // namespace heed
