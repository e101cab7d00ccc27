"""Export stage: checkpoint -> fp32 ONNX -> int8 ONNX, .ort, verify reports, model card.

onnx_export (checkpoint -> ONNX with metadata), quantize (static QDQ int8),
quantization_choice (the alternatives, measured), compact (smaller int8 graphs),
verify (the evidence), mobile (.ort + usability check), model_card, cli.
"""
