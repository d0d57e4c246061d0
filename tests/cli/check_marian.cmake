# heed convert --from huggingface: a MarianMTModel folder (tests/fixtures/marian) becomes a heed
# model that translates as transformers' generate() does; so does --from marian with a Marian
# release of a fixture model (greedy: heed's lines go on past the 23
# pieces generate() was limited to, so each must begin with generate()'s text).

cmake_policy(SET CMP0007 NEW)  # keep the empty element after the last line
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(fixture ${FIXTURES}/marian/gelu-1x3)

# convert_and_translate(FROM FOLDER FIXTURE NAME): convert, translate the fixture's lines greedily,
# compare with generate()'s text.
function(convert_and_translate from folder fixture name)
  execute_process(COMMAND ${HEED} -q convert --from ${from} ${folder} -o ${WORK_DIR}/${name}.heed
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT EXISTS ${WORK_DIR}/${name}.heed)
    message(FATAL_ERROR "heed convert --from ${from} ${folder}: exit ${rc}\n${err}")
  endif()
  file(READ ${fixture}/expected.json expected)
  string(JSON count LENGTH "${expected}" lines)
  math(EXPR last "${count} - 1")
  set(input "")
  foreach(i RANGE ${last})
    string(JSON line GET "${expected}" lines ${i})
    string(APPEND input "${line}\n")
  endforeach()
  file(WRITE ${WORK_DIR}/lines.en "${input}")
  execute_process(COMMAND ${HEED} -q translate -m ${WORK_DIR}/${name}.heed --beam 1 --split-sentences none
                          -i ${WORK_DIR}/lines.en
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REPLACE "\n" ";" outputs "${out}")
  list(LENGTH outputs got)
  math(EXPR want "${count} + 1")  # the last line's newline leaves an empty element
  if(NOT rc EQUAL 0 OR NOT got EQUAL want)
    message(FATAL_ERROR "heed translate with ${name}.heed: exit ${rc}, ${got} lines\n${out}${err}")
  endif()
  foreach(i RANGE ${last})
    string(JSON theirs GET "${expected}" greedy_text ${i})
    list(GET outputs ${i} ours)
    string(FIND "${ours}" "${theirs}" at)
    if(NOT at EQUAL 0)
      message(FATAL_ERROR "${name} line ${i}: heed translated '${ours}', generate() '${theirs}'")
    endif()
  endforeach()
endfunction()

convert_and_translate(huggingface ${fixture} ${fixture} gelu)
# A Marian release of another fixture model (its .npz, decoder.yml and .vocab.yml).
convert_and_translate(marian ${FIXTURES}/marian/swish-2x2/marian ${FIXTURES}/marian/swish-2x2 swish)

# -m and --from together, and a folder that is not a Marian model, are refused with what is wrong.
execute_process(COMMAND ${HEED} convert -m ${WORK_DIR}/gelu.heed --from huggingface ${fixture} -o ${WORK_DIR}/x.heed
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "one of them")
  message(FATAL_ERROR "heed convert with -m and --from: exit ${rc}\n${err}")
endif()
execute_process(COMMAND ${HEED} convert --from huggingface ${FIXTURES}/score -o ${WORK_DIR}/x.heed
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "config.json")
  message(FATAL_ERROR "heed convert --from huggingface on a folder without a model: exit ${rc}\n${err}")
endif()
execute_process(COMMAND ${HEED} convert --from marian ${fixture} -o ${WORK_DIR}/x.heed
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "decoder.yml")
  message(FATAL_ERROR "heed convert --from marian on a Hugging Face folder: exit ${rc}\n${err}")
endif()
