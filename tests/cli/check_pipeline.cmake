# The whole workflow through the command line, on the multi30k-200 slice:
# vocab -> train (from a config file) -> info -> translate -> score, and bad input on the way.

set(data ${DATA_DIR}/multi30k-200)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run name)
  execute_process(COMMAND ${HEED} ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  set(${name}_out "${out}" PARENT_SCOPE)
  set(${name}_err "${err}" PARENT_SCOPE)
  set(${name}_rc "${rc}" PARENT_SCOPE)
endfunction()

run(vocab vocab -i ${data}/train.en ${data}/train.de --size 300 -o ${WORK_DIR}/joint)
if(NOT vocab_rc EQUAL 0 OR NOT EXISTS ${WORK_DIR}/joint.model OR NOT vocab_out STREQUAL "")
  message(FATAL_ERROR "heed vocab: exit ${vocab_rc}\n${vocab_err}")
endif()

file(WRITE ${WORK_DIR}/train.toml "
train-src = \"${data}/train.en\"
train-tgt = \"${data}/train.de\"
valid-src = \"${data}/valid.en\"
valid-tgt = \"${data}/valid.de\"
vocab = \"${WORK_DIR}/joint.model\"
model-dim = 32
heads = 2
ffn-dim = 64
encoder-layers = 1
decoder-layers = 1
batch-tokens = 256
max-updates = 3
valid-bleu-sentences = 5
")
run(train --threads 1 train --config ${WORK_DIR}/train.toml -o ${WORK_DIR}/run)
if(NOT train_rc EQUAL 0 OR NOT train_out STREQUAL "" OR NOT train_err MATCHES "validation 1 at update 3")
  message(FATAL_ERROR "heed train --config: exit ${train_rc}, stdout '${train_out}'\n${train_err}")
endif()

run(info -q info ${WORK_DIR}/run/best.heed)
if(NOT info_rc EQUAL 0 OR NOT info_out MATCHES "model-dim = 32" OR NOT info_out MATCHES "max-updates=3")
  message(FATAL_ERROR "heed info on the trained model: exit ${info_rc}\n${info_out}")
endif()

run(translate -q translate -m ${WORK_DIR}/run/best.heed -i ${data}/valid.en -o ${WORK_DIR}/valid.out --beam 2)
file(STRINGS ${WORK_DIR}/valid.out lines)
file(READ ${WORK_DIR}/valid.out text)
string(REGEX MATCHALL "\n" newlines "${text}")
list(LENGTH newlines count)
if(NOT translate_rc EQUAL 0 OR NOT count EQUAL 50)
  message(FATAL_ERROR "heed translate: exit ${translate_rc}, ${count} lines for 50\n${translate_err}")
endif()

run(score -q score -m bleu,chrf -r ${data}/valid.de -i ${WORK_DIR}/valid.out)
if(NOT score_rc EQUAL 0 OR NOT score_out MATCHES "^BLEU\\|.*\nchrF2\\|")
  message(FATAL_ERROR "heed score: exit ${score_rc}\n${score_out}${score_err}")
endif()

# Corpora of different lengths: one line naming both files and both counts, exit 1.
run(bad train --train-src ${data}/train.en --train-tgt ${data}/valid.de --vocab ${WORK_DIR}/joint.model -o ${WORK_DIR}/bad)
if(NOT bad_rc EQUAL 1 OR NOT bad_err MATCHES "train.en has 200 lines but .*valid.de has 50")
  message(FATAL_ERROR "heed train with mismatched corpora: exit ${bad_rc}\n${bad_err}")
endif()
